package pagerduty

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"
)

// Shift is one on-call entry: a user on call in a schedule.
type Shift struct {
	ScheduleID         string
	ScheduleName       string
	UserID             string
	UserName           string
	Email              string
	EscalationPolicyID string
	EscalationLevel    uint
	// Start is when the shift began; zero for a permanent on-call.
	Start time.Time
	// End is when the shift ends; zero when the user does not go off call
	// ("If null, the user does not go off-call"): the caller caps it.
	End time.Time
}

// OpenEnded reports whether the shift has no end.
func (s Shift) OpenEnded() bool { return s.End.IsZero() }

// EndOr returns the shift's end, or limit when the shift is open-ended or
// ends after limit.
func (s Shift) EndOr(limit time.Time) time.Time {
	if s.End.IsZero() || s.End.After(limit) {
		return limit
	}
	return s.End
}

// lasting reports whether the shift is still on at now.
func (s Shift) lasting(now time.Time) bool {
	return s.End.IsZero() || s.End.After(now)
}

// pageLimit is the largest page classic pagination allows ("Pagination":
// "cannot exceed 100"), and maxRecords the most it will page through
// ("the sum of the offset and limit parameters cannot exceed 10000").
const (
	pageLimit  = 100
	maxRecords = 10000
)

// OnCall reports whether the person with this email is on call now in any
// of the schedules, and the shift that ends last when several do. The
// email is matched without regard to case. An error means PagerDuty could
// not be asked (an [*Error] that says why in one line): nobody is to be
// approved by it.
func (c *Client) OnCall(ctx context.Context, email string, scheduleIDs []string) (Shift, bool, error) {
	email = strings.TrimSpace(email)
	shifts, err := c.OnCallNow(ctx, scheduleIDs)
	if err != nil || email == "" {
		return Shift{}, false, err
	}
	var best Shift
	found := false
	for _, s := range shifts {
		if !strings.EqualFold(s.Email, email) {
			continue
		}
		if !found || endsLater(s, best) {
			best, found = s, true
		}
	}
	return best, found, nil
}

func endsLater(a, b Shift) bool {
	if b.End.IsZero() {
		return false
	}
	return a.End.IsZero() || a.End.After(b.End)
}

// OnCallNow returns every shift on now in the schedules (GET /oncalls with
// schedule_ids[], include[]=users and since = until = now, every page
// followed). An answer is reused for the cache TTL but never past the
// first end of a shift in it, and concurrent lookups of the same
// schedules share one call.
func (c *Client) OnCallNow(ctx context.Context, scheduleIDs []string) ([]Shift, error) {
	ids := normalizeIDs(scheduleIDs)
	if len(ids) == 0 {
		return nil, nil
	}
	key := strings.Join(ids, ",")
	c.mu.Lock()
	now := c.clock()
	if a, ok := c.cache[key]; ok && now.Before(a.expires) {
		c.mu.Unlock()
		return lastingAt(a.shifts, now), nil
	}
	l := c.inflight[key]
	if l == nil {
		l = &lookup{done: make(chan struct{})}
		c.inflight[key] = l
		go c.run(context.WithoutCancel(ctx), key, ids, l)
	}
	l.waiters++
	c.mu.Unlock()
	select {
	case <-l.done:
		if l.err != nil {
			return nil, l.err
		}
		return lastingAt(l.shifts, c.clock()), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("asking PagerDuty who is on call: %w", ctx.Err())
	}
}

// cachedAnswer is a reusable answer for a set of schedules.
type cachedAnswer struct {
	shifts  []Shift
	expires time.Time
}

// lookup is one call in flight, shared by every caller asking the same.
type lookup struct {
	done    chan struct{}
	waiters int // callers waiting, under Client.mu
	shifts  []Shift
	err     error
}

// run asks PagerDuty within the bound, stores the answer and releases the
// callers waiting for it.
func (c *Client) run(ctx context.Context, key string, ids []string, l *lookup) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	asked := c.clock()
	l.shifts, l.err = c.fetch(ctx, ids, asked)
	c.noteResult(l.err)
	c.mu.Lock()
	delete(c.inflight, key)
	if l.err == nil && c.ttl > 0 {
		c.cache[key] = cachedAnswer{shifts: l.shifts, expires: expiry(l.shifts, asked.Add(c.ttl))}
	}
	c.mu.Unlock()
	close(l.done)
}

// expiry is the earlier of limit and the first end of a shift.
func expiry(shifts []Shift, limit time.Time) time.Time {
	for _, s := range shifts {
		limit = s.EndOr(limit)
	}
	return limit
}

func lastingAt(shifts []Shift, now time.Time) []Shift {
	return slices.DeleteFunc(slices.Clone(shifts), func(s Shift) bool { return !s.lasting(now) })
}

// fetch lists the on-call entries overlapping now, page by page
// ("Pagination": repeat with offset = offset + limit while more is true).
func (c *Client) fetch(ctx context.Context, ids []string, now time.Time) ([]Shift, error) {
	at := now.UTC().Format(time.RFC3339)
	opts := pagerduty.ListOnCallOptions{
		Limit: pageLimit, ScheduleIDs: ids, Includes: []string{"users"}, Since: at, Until: at,
	}
	var shifts []Shift
	for {
		var resp *pagerduty.ListOnCallsResponse
		err := c.call(ctx, func(ctx context.Context) (err error) {
			resp, err = c.api.ListOnCallsWithContext(ctx, opts)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, oc := range resp.OnCalls {
			s, err := shiftOf(oc)
			if err != nil {
				return nil, &Error{Outcome: OutcomeBadAnswer, Status: 200, msg: "PagerDuty's answer could not be read: " + err.Error()}
			}
			shifts = append(shifts, s)
		}
		if !resp.More {
			return shifts, nil
		}
		if len(resp.OnCalls) == 0 || resp.Offset+resp.Limit+pageLimit > maxRecords {
			return nil, &Error{Outcome: OutcomeBadAnswer, Status: 200, msg: fmt.Sprintf(
				"PagerDuty's on-call list does not end (more after %d entries)", resp.Offset+uint(len(resp.OnCalls)))}
		}
		opts.Offset = resp.Offset + resp.Limit
	}
}

// shiftOf reads an on-call entry; with include[]=users its user is the
// full user object, email included.
func shiftOf(oc pagerduty.OnCall) (Shift, error) {
	s := Shift{
		ScheduleID: oc.Schedule.ID, ScheduleName: oc.Schedule.Summary,
		UserID: oc.User.ID, UserName: oc.User.Name, Email: oc.User.Email,
		EscalationPolicyID: oc.EscalationPolicy.ID, EscalationLevel: oc.EscalationLevel,
	}
	var err error
	if s.Start, err = parseTime(oc.Start); err != nil {
		return Shift{}, fmt.Errorf("on-call start: %w", err)
	}
	if s.End, err = parseTime(oc.End); err != nil {
		return Shift{}, fmt.Errorf("on-call end: %w", err)
	}
	if s.Email == "" {
		return Shift{}, fmt.Errorf("on-call user %s has no email", oc.User.ID)
	}
	return s, nil
}

func parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, v)
}

// normalizeIDs sorts the schedule ids and drops blanks and duplicates.
func normalizeIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
