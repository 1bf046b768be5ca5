package pagerdutyfake

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// User is a PagerDuty user ("Users" in the API reference).
type User struct {
	ID       string // assigned when empty, like "P000001"
	Name     string
	Email    string
	TimeZone string // default the account's time zone
	Role     string // default "user"
}

// Schedule is an on-call schedule and the escalation rule that targets it.
// In PagerDuty on-calls are "the computed result of how Escalation Policies
// and Schedules are configured" (API Concepts, On-Calls): every on-call
// entry names the escalation policy and the level of the rule that reaches
// the schedule.
type Schedule struct {
	ID                   string // assigned when empty
	Name                 string
	Description          string
	TimeZone             string // default the account's time zone
	EscalationPolicyID   string // assigned when empty
	EscalationPolicyName string // default Name + " escalation policy"
	EscalationLevel      uint   // default 1
}

// OnCall is one computed on-call entry: a user on call in a schedule from
// Start until End (zero End: the user does not go off call).
type OnCall struct {
	ScheduleID      string
	UserID          string
	UserEmail       string
	EscalationLevel uint
	Start, End      time.Time
	Override        bool // the entry comes from an override
}

// shift is a stretch of time a user is on call in a schedule, from a layer
// (PutOnCall) or an override.
type shift struct {
	scheduleID, userID string
	start, end         time.Time // zero end: open-ended
}

// forever stands for an open end in interval arithmetic.
var forever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

func (sh *shift) until() time.Time {
	if sh.end.IsZero() {
		return forever
	}
	return sh.end
}

// covers reports whether the shift overlaps [since, until] (both ends
// included, as /oncalls: "If an on-call period overlaps with the range, it
// will be included").
func (sh *shift) covers(since, until time.Time) bool {
	return !sh.start.After(until) && sh.until().After(since)
}

// ErrNotFound is returned for an unknown schedule or user.
var ErrNotFound = errors.New("not found")

// AddUser adds a user and returns its id.
func (s *Server) AddUser(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = s.newIDLocked()
	}
	if u.TimeZone == "" {
		u.TimeZone = s.location.String()
	}
	if u.Role == "" {
		u.Role = "user"
	}
	s.users[u.ID] = &u
	return u.ID
}

// AddSchedule adds a schedule and returns its id.
func (s *Server) AddSchedule(sc Schedule) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc.ID == "" {
		sc.ID = s.newIDLocked()
	}
	if sc.EscalationPolicyID == "" {
		sc.EscalationPolicyID = s.newIDLocked()
	}
	if sc.EscalationPolicyName == "" {
		sc.EscalationPolicyName = sc.Name + " escalation policy"
	}
	if sc.EscalationLevel == 0 {
		sc.EscalationLevel = 1
	}
	if sc.TimeZone == "" {
		sc.TimeZone = s.location.String()
	}
	s.schedules[sc.ID] = &sc
	return sc.ID
}

// PutOnCall puts the user with this email on call in the schedule from
// start until end (zero end: open-ended), as a layer of the schedule would.
func (s *Server) PutOnCall(scheduleID, email string, start, end time.Time) error {
	return s.addShift(&s.shifts, scheduleID, email, start, end)
}

// Override puts the user with this email on call in the schedule from start
// until end in place of whoever the layers put there ("Overrides": the
// override user takes the shift for that time).
func (s *Server) Override(scheduleID, email string, start, end time.Time) error {
	if end.IsZero() {
		return errors.New("an override needs an end")
	}
	return s.addShift(&s.overrides, scheduleID, email, start, end)
}

func (s *Server) addShift(list *[]*shift, scheduleID, email string, start, end time.Time) error {
	if !end.IsZero() && !end.After(start) {
		return fmt.Errorf("shift ends (%s) before it starts (%s)", end, start)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.schedules[scheduleID] == nil {
		return fmt.Errorf("schedule %q: %w", scheduleID, ErrNotFound)
	}
	u := s.userByEmailLocked(email)
	if u == nil {
		return fmt.Errorf("user %q: %w", email, ErrNotFound)
	}
	*list = append(*list, &shift{scheduleID: scheduleID, userID: u.ID, start: start.Truncate(time.Second), end: end.Truncate(time.Second)})
	return nil
}

// EndShift ends now every shift and override that has the user with this
// email on call in the schedule at this moment. It fails when the user is
// not on call there.
func (s *Server) EndShift(scheduleID, email string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByEmailLocked(email)
	if u == nil {
		return fmt.Errorf("user %q: %w", email, ErrNotFound)
	}
	now := s.clock().Truncate(time.Second)
	ended := false
	for _, sh := range slices.Concat(s.shifts, s.overrides) {
		if sh.scheduleID == scheduleID && sh.userID == u.ID && sh.covers(now, now) {
			sh.end = now
			ended = true
		}
	}
	if !ended {
		return fmt.Errorf("%s is not on call in schedule %q", email, scheduleID)
	}
	return nil
}

// OnCallAt returns the computed on-call entries of the schedule that cover
// the moment t.
func (s *Server) OnCallAt(scheduleID string, t time.Time) []OnCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []OnCall
	for _, sh := range s.computedLocked(scheduleID) {
		if sh.covers(t, t) {
			out = append(out, s.onCallLocked(sh))
		}
	}
	return out
}

// Now returns the fake's current time.
func (s *Server) Now() time.Time { return s.clock() }

func (s *Server) onCallLocked(sh *shift) OnCall {
	sc := s.schedules[sh.scheduleID]
	return OnCall{
		ScheduleID: sh.scheduleID, UserID: sh.userID, UserEmail: s.users[sh.userID].Email,
		EscalationLevel: sc.EscalationLevel, Start: sh.start, End: sh.end,
		Override: slices.Contains(s.overrides, sh),
	}
}

// computedLocked is the schedule's final schedule: the layers' shifts with
// the overrides' time cut out, plus the overrides, ordered by start.
func (s *Server) computedLocked(scheduleID string) []*shift {
	var overrides, out []*shift
	for _, o := range s.overrides {
		if o.scheduleID == scheduleID {
			overrides = append(overrides, o)
		}
	}
	for _, sh := range s.shifts {
		if sh.scheduleID != scheduleID {
			continue
		}
		pieces := []*shift{{scheduleID: sh.scheduleID, userID: sh.userID, start: sh.start, end: sh.end}}
		for _, o := range overrides {
			pieces = cutOut(pieces, o)
		}
		out = append(out, pieces...)
	}
	out = append(out, overrides...)
	slices.SortStableFunc(out, func(a, b *shift) int {
		return cmp.Or(a.start.Compare(b.start), strings.Compare(a.userID, b.userID))
	})
	return out
}

// cutOut removes the override's time from each piece.
func cutOut(pieces []*shift, o *shift) []*shift {
	var out []*shift
	for _, p := range pieces {
		if !p.start.Before(o.until()) || !o.start.Before(p.until()) {
			out = append(out, p) // no overlap
			continue
		}
		if p.start.Before(o.start) {
			out = append(out, &shift{scheduleID: p.scheduleID, userID: p.userID, start: p.start, end: o.start})
		}
		if o.until().Before(p.until()) {
			out = append(out, &shift{scheduleID: p.scheduleID, userID: p.userID, start: o.end, end: p.end})
		}
	}
	return out
}

func (s *Server) userByEmailLocked(email string) *User {
	for _, u := range s.users {
		if strings.EqualFold(u.Email, email) {
			return u
		}
	}
	return nil
}

// Users returns the account's users ordered by name.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedUsersLocked()
}

func (s *Server) sortedUsersLocked() []User {
	var out []User
	for _, u := range s.users {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b User) int { return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID)) })
	return out
}

// Schedules returns the account's schedules ordered by name.
func (s *Server) Schedules() []Schedule {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedSchedulesLocked()
}

func (s *Server) sortedSchedulesLocked() []Schedule {
	var out []Schedule
	for _, sc := range s.schedules {
		out = append(out, *sc)
	}
	slices.SortFunc(out, func(a, b Schedule) int { return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID)) })
	return out
}

// newIDLocked returns a new object id shaped like PagerDuty's (a "P" and
// six upper-case characters).
func (s *Server) newIDLocked() string {
	s.nextID++
	return fmt.Sprintf("P%06X", s.nextID)
}
