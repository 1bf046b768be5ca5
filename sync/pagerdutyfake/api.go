package pagerdutyfake

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Classic pagination limits ("Pagination"): 25 results by default, at most
// 100 per page, and offset+limit may not exceed 10000.
const (
	defaultLimit = 25
	maxLimit     = 100
	maxRecords   = 10000
)

// badRequest is a 400 answer ("Errors": "Caller provided invalid
// arguments").
type badRequest struct {
	code    int
	message string
	details []string
}

// listOnCalls serves GET /oncalls ("List all of the on-calls": "List the
// on-call entries during a given time range").
func (s *Server) listOnCalls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	loc, since, until, bad := s.timeRange(q)
	if bad == nil {
		bad = checkIncludes(q["include[]"], "escalation_policies", "users", "schedules")
	}
	limit, offset, bad2 := pageParams(q)
	if bad == nil {
		bad = bad2
	}
	if bad != nil {
		writeError(w, http.StatusBadRequest, bad.code, bad.message, bad.details...)
		return
	}
	s.mu.Lock()
	entries := s.filteredOnCallsLocked(q, since, until)
	if q.Get("earliest") == "true" {
		entries = s.earliestLocked(entries)
	}
	page := pageOf(entries, offset, limit)
	r2 := renderer{s: s, base: baseURL(r), loc: loc, includes: q["include[]"]}
	oncalls := make([]map[string]any, 0, len(page))
	for _, sh := range page {
		oncalls = append(oncalls, r2.oncall(sh))
	}
	s.mu.Unlock()
	body := map[string]any{
		"oncalls": oncalls,
		"limit":   limit,
		"offset":  offset,
		"more":    offset+len(page) < len(entries),
		"total":   nil, // "null by default … pass a total=true parameter"
	}
	if q.Get("total") == "true" {
		body["total"] = len(entries)
	}
	writeJSON(w, http.StatusOK, body)
}

// timeRange reads time_zone, since and until. since and until default to
// the current time; until may not be before since.
func (s *Server) timeRange(q url.Values) (*time.Location, time.Time, time.Time, *badRequest) {
	loc := s.location
	if tz := q.Get("time_zone"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, time.Time{}, time.Time{}, &badRequest{2001, "Invalid Input Provided", []string{"Time zone is invalid."}}
		}
		loc = l
	}
	now := s.clock()
	since, err1 := parseTime(q.Get("since"), now)
	until, err2 := parseTime(q.Get("until"), now)
	if err1 != nil || err2 != nil {
		// "Errors": 2004 "Invalid time values in 'since' and/or 'until'
		// parameters".
		return nil, time.Time{}, time.Time{}, &badRequest{2004, "Invalid time values in 'since' and/or 'until' parameters", nil}
	}
	if until.Before(since) {
		// "the `until` time cannot be before the `since` time"; "Errors":
		// 2005 "Invalid Query Date Range".
		return nil, time.Time{}, time.Time{}, &badRequest{2005, "Invalid Query Date Range", nil}
	}
	return loc, since, until, nil
}

func parseTime(v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	return time.Parse(time.RFC3339, v)
}

func checkIncludes(values []string, allowed ...string) *badRequest {
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			return &badRequest{2001, "Invalid Input Provided", []string{"Include is not valid: " + v}}
		}
	}
	return nil
}

// pageParams reads the classic pagination parameters.
func pageParams(q url.Values) (limit, offset int, bad *badRequest) {
	limit, offset = defaultLimit, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, &badRequest{2001, "Invalid Input Provided", []string{"Limit must be a positive integer."}}
		}
		limit = min(n, maxLimit)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, &badRequest{2001, "Invalid Input Provided", []string{"Offset must be a non-negative integer."}}
		}
		offset = n
	}
	if offset+limit > maxRecords {
		return 0, 0, &badRequest{2001, "Invalid Input Provided", []string{"Offset plus limit must not exceed 10000."}}
	}
	return limit, offset, nil
}

func pageOf[T any](all []T, offset, limit int) []T {
	if offset >= len(all) {
		return nil
	}
	return all[offset:min(offset+limit, len(all))]
}

// filteredOnCallsLocked computes the on-call entries overlapping [since,
// until] that match the id filters, ordered by escalation level, start,
// schedule and user.
func (s *Server) filteredOnCallsLocked(q url.Values, since, until time.Time) []*shift {
	scheduleIDs, userIDs, policyIDs := q["schedule_ids[]"], q["user_ids[]"], q["escalation_policy_ids[]"]
	var out []*shift
	for _, sc := range s.sortedSchedulesLocked() {
		if len(scheduleIDs) > 0 && !slices.Contains(scheduleIDs, sc.ID) {
			continue
		}
		if len(policyIDs) > 0 && !slices.Contains(policyIDs, sc.EscalationPolicyID) {
			continue
		}
		for _, sh := range s.computedLocked(sc.ID) {
			if sh.covers(since, until) && (len(userIDs) == 0 || slices.Contains(userIDs, sh.userID)) {
				out = append(out, sh)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *shift) int {
		la, lb := s.schedules[a.scheduleID].EscalationLevel, s.schedules[b.scheduleID].EscalationLevel
		return cmp.Or(cmp.Compare(la, lb), a.start.Compare(b.start),
			strings.Compare(a.scheduleID, b.scheduleID), strings.Compare(a.userID, b.userID))
	})
	return out
}

// earliest keeps "only the earliest on-call for each combination of
// escalation policy, escalation level, and user".
func (s *Server) earliestLocked(entries []*shift) []*shift {
	type key struct {
		policy string
		level  uint
		user   string
	}
	best := map[key]*shift{}
	for _, sh := range entries {
		sc := s.schedules[sh.scheduleID]
		k := key{sc.EscalationPolicyID, sc.EscalationLevel, sh.userID}
		if b := best[k]; b == nil || sh.start.Before(b.start) {
			best[k] = sh
		}
	}
	return slices.DeleteFunc(slices.Clone(entries), func(sh *shift) bool {
		sc := s.schedules[sh.scheduleID]
		return best[key{sc.EscalationPolicyID, sc.EscalationLevel, sh.userID}] != sh
	})
}

// getSchedule serves GET /schedules/{id} ("Get a schedule"). Rendered
// entries are filled when since or until is given: each defaults to two
// weeks from the other, and entries are cut at the range unless
// overflow=true.
func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	loc, since, until, bad := s.scheduleRange(q)
	if bad != nil {
		writeError(w, http.StatusBadRequest, bad.code, bad.message, bad.details...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.schedules[r.PathValue("id")]
	if sc == nil {
		// The documented example error object: {"message":"Not Found","code":2100}.
		writeError(w, http.StatusNotFound, 2100, "Not Found")
		return
	}
	rr := renderer{s: s, base: baseURL(r), loc: loc}
	var rg *renderRange
	if !since.IsZero() {
		rg = &renderRange{since: since, until: until, overflow: q.Get("overflow") == "true"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"schedule": rr.schedule(sc, rg)})
}

func (s *Server) scheduleRange(q url.Values) (*time.Location, time.Time, time.Time, *badRequest) {
	sv, uv := q.Get("since"), q.Get("until")
	if sv == "" && uv == "" {
		loc, _, _, bad := s.timeRange(url.Values{"time_zone": q["time_zone"]})
		return loc, time.Time{}, time.Time{}, bad
	}
	const twoWeeks = 14 * 24 * time.Hour
	q2 := url.Values{"time_zone": q["time_zone"], "since": {sv}, "until": {uv}}
	if sv == "" || uv == "" {
		given, err := time.Parse(time.RFC3339, sv+uv)
		if err != nil {
			return nil, time.Time{}, time.Time{}, &badRequest{2004, "Invalid time values in 'since' and/or 'until' parameters", nil}
		}
		if sv == "" {
			q2.Set("since", given.Add(-twoWeeks).Format(time.RFC3339))
		} else {
			q2.Set("until", given.Add(twoWeeks).Format(time.RFC3339))
		}
	}
	return s.timeRange(q2)
}

// getUser serves GET /users/{id} ("Get a user").
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	if bad := checkIncludes(r.URL.Query()["include[]"], "contact_methods", "notification_rules", "teams", "subdomains", "calendar_urls"); bad != nil {
		writeError(w, http.StatusBadRequest, bad.code, bad.message, bad.details...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[r.PathValue("id")]
	if u == nil {
		writeError(w, http.StatusNotFound, 2100, "Not Found")
		return
	}
	rr := renderer{s: s, base: baseURL(r), loc: s.location}
	writeJSON(w, http.StatusOK, map[string]any{"user": rr.user(u)})
}

func baseURL(r *http.Request) string {
	return "http://" + r.Host
}
