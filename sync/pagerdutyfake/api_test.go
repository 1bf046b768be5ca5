package pagerdutyfake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/accessportal/portal/sync/pagerdutyfake"
)

func nowOptions(ids ...string) pagerduty.ListOnCallOptions {
	now := t0.Format(time.RFC3339)
	return pagerduty.ListOnCallOptions{ScheduleIDs: ids, Includes: []string{"users"}, Since: now, Until: now}
}

func TestOnCallsListTheShiftWithTheFullUser(t *testing.T) {
	s, c, _, _ := startFake(t)
	alice := s.AddUser(pagerdutyfake.User{Name: "Alice Ops", Email: "Alice@Example.com"})
	s.AddUser(pagerdutyfake.User{Name: "Bob", Email: "bob@example.com"})
	primary := s.AddSchedule(pagerdutyfake.Schedule{Name: "Primary", EscalationPolicyName: "Prod", EscalationLevel: 2})
	other := s.AddSchedule(pagerdutyfake.Schedule{Name: "Other"})
	end := t0.Add(8 * time.Hour)
	mustNil(t, s.PutOnCall(primary, "alice@example.com", t0.Add(-time.Hour), end))
	mustNil(t, s.PutOnCall(other, "bob@example.com", t0.Add(-time.Hour), time.Time{}))
	mustNil(t, s.PutOnCall(primary, "bob@example.com", end, end.Add(8*time.Hour))) // next shift

	resp, err := c.ListOnCallsWithContext(context.Background(), nowOptions(primary))
	mustNil(t, err)
	if len(resp.OnCalls) != 1 || resp.More {
		t.Fatalf("on-calls now in %s: %+v", primary, resp)
	}
	oc := resp.OnCalls[0]
	if oc.User.ID != alice || oc.User.Email != "Alice@Example.com" || oc.User.Type != "user" || oc.User.Name != "Alice Ops" {
		t.Errorf("user = %+v, want the full user object of Alice", oc.User)
	}
	if oc.Schedule.ID != primary || oc.Schedule.Type != "schedule_reference" || oc.EscalationLevel != 2 ||
		oc.EscalationPolicy.Summary != "Prod" || oc.EscalationPolicy.Type != "escalation_policy_reference" {
		t.Errorf("entry = %+v", oc)
	}
	if !parseTime(t, oc.End).Equal(end) || !parseTime(t, oc.Start).Equal(t0.Add(-time.Hour)) {
		t.Errorf("start/end = %s/%s", oc.Start, oc.End)
	}

	resp, err = c.ListOnCallsWithContext(context.Background(), nowOptions(other))
	mustNil(t, err)
	if len(resp.OnCalls) != 1 || resp.OnCalls[0].End != "" {
		t.Errorf("an open-ended shift must have a null end: %+v", resp.OnCalls)
	}
	// Without include[]=users the user is a reference, without an email.
	opts := nowOptions(primary)
	opts.Includes = nil
	resp, err = c.ListOnCallsWithContext(context.Background(), opts)
	mustNil(t, err)
	if u := resp.OnCalls[0].User; u.Type != "user_reference" || u.Email != "" {
		t.Errorf("user without include = %+v", u)
	}
	for _, r := range s.Requests() {
		if r.Accept != pagerdutyfake.Accept || r.Authorization != "Token token="+token {
			t.Errorf("request headers: %+v", r)
		}
	}
}

func TestOnCallsRangeAndFilters(t *testing.T) {
	s, c, _, _ := startFake(t)
	s.AddUser(pagerdutyfake.User{Name: "A", Email: "a@example.com"})
	bob := s.AddUser(pagerdutyfake.User{Name: "B", Email: "b@example.com"})
	sc := s.AddSchedule(pagerdutyfake.Schedule{Name: "S"})
	mustNil(t, s.PutOnCall(sc, "a@example.com", t0, t0.Add(time.Hour)))
	mustNil(t, s.PutOnCall(sc, "b@example.com", t0.Add(time.Hour), t0.Add(2*time.Hour)))
	mustNil(t, s.PutOnCall(sc, "a@example.com", t0.Add(2*time.Hour), t0.Add(3*time.Hour)))

	count := func(o pagerduty.ListOnCallOptions) int {
		t.Helper()
		resp, err := c.ListOnCallsWithContext(context.Background(), o)
		mustNil(t, err)
		return len(resp.OnCalls)
	}
	day := pagerduty.ListOnCallOptions{ScheduleIDs: []string{sc}, Since: t0.Format(time.RFC3339), Until: t0.Add(24 * time.Hour).Format(time.RFC3339)}
	if n := count(day); n != 3 {
		t.Errorf("shifts in the day = %d, want 3", n)
	}
	day.Earliest = true
	if n := count(day); n != 2 {
		t.Errorf("earliest per user = %d, want 2", n)
	}
	day.Earliest, day.UserIDs = false, []string{bob}
	if n := count(day); n != 1 {
		t.Errorf("shifts of Bob = %d, want 1", n)
	}
	// Since and until default to now: only the first shift.
	if n := count(pagerduty.ListOnCallOptions{ScheduleIDs: []string{sc}}); n != 1 {
		t.Errorf("shifts now = %d, want 1", n)
	}
	if n := count(pagerduty.ListOnCallOptions{ScheduleIDs: []string{"PNOSUCH"}}); n != 0 {
		t.Errorf("shifts of an unknown schedule = %d", n)
	}
	// Times are rendered in the requested time zone.
	resp, err := c.ListOnCallsWithContext(context.Background(), pagerduty.ListOnCallOptions{ScheduleIDs: []string{sc}, TimeZone: "America/New_York"})
	mustNil(t, err)
	if !strings.HasSuffix(resp.OnCalls[0].Start, "-05:00") || !parseTime(t, resp.OnCalls[0].Start).Equal(t0) {
		t.Errorf("start in New York = %s", resp.OnCalls[0].Start)
	}
}

func TestOnCallsPagination(t *testing.T) {
	s, c, _, _ := startFake(t)
	sc := s.AddSchedule(pagerdutyfake.Schedule{Name: "Everyone"})
	for i := range 60 {
		email := fmt.Sprintf("u%02d@example.com", i)
		s.AddUser(pagerdutyfake.User{Name: email, Email: email})
		mustNil(t, s.PutOnCall(sc, email, t0.Add(-time.Minute), t0.Add(time.Hour)))
	}
	seen := map[string]bool{}
	opts := nowOptions(sc)
	opts.Total = true
	pages := 0
	for {
		resp, err := c.ListOnCallsWithContext(context.Background(), opts)
		mustNil(t, err)
		pages++
		if resp.Limit != 25 || resp.Offset != opts.Offset || resp.Total != 60 {
			t.Fatalf("page %d: limit %d offset %d total %d", pages, resp.Limit, resp.Offset, resp.Total)
		}
		for _, oc := range resp.OnCalls {
			if seen[oc.User.Email] {
				t.Errorf("%s listed twice", oc.User.Email)
			}
			seen[oc.User.Email] = true
		}
		if !resp.More {
			break
		}
		opts.Offset = resp.Offset + resp.Limit
	}
	if pages != 3 || len(seen) != 60 {
		t.Errorf("pages = %d, users = %d; want 3 and 60", pages, len(seen))
	}
	opts.Limit, opts.Offset = 500, 0
	resp, err := c.ListOnCallsWithContext(context.Background(), opts)
	mustNil(t, err)
	if resp.Limit != 100 || len(resp.OnCalls) != 60 {
		t.Errorf("limit 500 answered limit %d with %d entries; the maximum is 100", resp.Limit, len(resp.OnCalls))
	}
	opts.Limit, opts.Offset = 100, 9950
	_, err = c.ListOnCallsWithContext(context.Background(), opts)
	if !isStatus(err, 400, 2001) {
		t.Errorf("offset+limit beyond 10000: %v", err)
	}
}

func TestOverrideTakesTheShiftAndEndShiftEndsIt(t *testing.T) {
	s, c, clk, _ := startFake(t)
	s.AddUser(pagerdutyfake.User{Name: "A", Email: "a@example.com"})
	s.AddUser(pagerdutyfake.User{Name: "B", Email: "b@example.com"})
	sc := s.AddSchedule(pagerdutyfake.Schedule{Name: "S"})
	mustNil(t, s.PutOnCall(sc, "a@example.com", t0.Add(-time.Hour), t0.Add(8*time.Hour)))
	mustNil(t, s.Override(sc, "b@example.com", t0.Add(time.Hour), t0.Add(2*time.Hour)))

	who := func() []string {
		t.Helper()
		now := clk.Now().Format(time.RFC3339)
		resp, err := c.ListOnCallsWithContext(context.Background(), pagerduty.ListOnCallOptions{
			ScheduleIDs: []string{sc}, Includes: []string{"users"}, Since: now, Until: now})
		mustNil(t, err)
		var out []string
		for _, oc := range resp.OnCalls {
			out = append(out, oc.User.Email+" until "+oc.End)
		}
		return out
	}
	if got := who(); len(got) != 1 || got[0] != "a@example.com until 2026-03-02T10:00:00Z" {
		t.Errorf("before the override: %v", got)
	}
	clk.Advance(90 * time.Minute)
	if got := who(); len(got) != 1 || got[0] != "b@example.com until 2026-03-02T11:00:00Z" {
		t.Errorf("during the override: %v", got)
	}
	clk.Advance(time.Hour)
	if got := who(); len(got) != 1 || got[0] != "a@example.com until 2026-03-02T17:00:00Z" {
		t.Errorf("after the override: %v", got)
	}
	mustNil(t, s.EndShift(sc, "A@example.com"))
	if got := who(); len(got) != 0 {
		t.Errorf("after EndShift: %v", got)
	}
	if err := s.EndShift(sc, "a@example.com"); err == nil {
		t.Error("ending a shift nobody holds succeeded")
	}
	if err := s.PutOnCall(sc, "nobody@example.com", t0, time.Time{}); !errors.Is(err, pagerdutyfake.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
}

func TestShiftEndsWithTheClock(t *testing.T) {
	s, c, clk, _ := startFake(t)
	s.AddUser(pagerdutyfake.User{Name: "A", Email: "a@example.com"})
	sc := s.AddSchedule(pagerdutyfake.Schedule{Name: "S"})
	mustNil(t, s.PutOnCall(sc, "a@example.com", t0, t0.Add(time.Hour)))
	for _, tc := range []struct {
		at   time.Duration
		want int
	}{{0, 1}, {59 * time.Minute, 1}, {time.Hour, 0}} {
		now := t0.Add(tc.at).Format(time.RFC3339)
		resp, err := c.ListOnCallsWithContext(context.Background(), pagerduty.ListOnCallOptions{ScheduleIDs: []string{sc}, Since: now, Until: now})
		mustNil(t, err)
		if len(resp.OnCalls) != tc.want {
			t.Errorf("at +%s: %d on call, want %d", tc.at, len(resp.OnCalls), tc.want)
		}
	}
	clk.Advance(time.Hour)
	if got := s.OnCallAt(sc, clk.Now()); len(got) != 0 {
		t.Errorf("on call at the shift's end: %+v", got)
	}
}

func TestGetScheduleAndUser(t *testing.T) {
	s, c, _, _ := startFake(t)
	alice := s.AddUser(pagerdutyfake.User{Name: "Alice", Email: "alice@example.com"})
	s.AddUser(pagerdutyfake.User{Name: "Bob", Email: "bob@example.com"})
	sc := s.AddSchedule(pagerdutyfake.Schedule{Name: "Primary", TimeZone: "Europe/Paris"})
	mustNil(t, s.PutOnCall(sc, "alice@example.com", t0, t0.Add(4*time.Hour)))
	mustNil(t, s.Override(sc, "bob@example.com", t0.Add(time.Hour), t0.Add(2*time.Hour)))

	got, err := c.GetScheduleWithContext(context.Background(), sc, pagerduty.GetScheduleOptions{
		Since: t0.Format(time.RFC3339), Until: t0.Add(24 * time.Hour).Format(time.RFC3339)})
	mustNil(t, err)
	if got.ID != sc || got.Name != "Primary" || got.Type != "schedule" || got.TimeZone != "Europe/Paris" || len(got.EscalationPolicies) != 1 {
		t.Errorf("schedule = %+v", got)
	}
	if n := len(got.FinalSchedule.RenderedScheduleEntries); n != 3 {
		t.Errorf("final schedule has %d entries, want 3 (Alice, Bob's override, Alice)", n)
	}
	if n := len(got.ScheduleLayers); n != 1 || len(got.ScheduleLayers[0].RenderedScheduleEntries) != 1 {
		t.Errorf("layers = %+v", got.ScheduleLayers)
	}

	_, err = c.GetScheduleWithContext(context.Background(), "PNOSUCH", pagerduty.GetScheduleOptions{})
	var apiErr pagerduty.APIError
	if !errors.As(err, &apiErr) || !apiErr.NotFound() {
		t.Errorf("unknown schedule: %v", err)
	}

	u, err := c.GetUserWithContext(context.Background(), alice, pagerduty.GetUserOptions{})
	mustNil(t, err)
	if u.Email != "alice@example.com" || u.Name != "Alice" || u.Type != "user" {
		t.Errorf("user = %+v", u)
	}
	if _, err := c.GetUserWithContext(context.Background(), "PNOSUCH", pagerduty.GetUserOptions{}); !isStatus(err, 404, 2100) {
		t.Errorf("unknown user: %v", err)
	}
}

func isStatus(err error, status, code int) bool {
	var apiErr pagerduty.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == status && apiErr.APIError.Valid && apiErr.APIError.ErrorObject.Code == code
}

func TestBadRequests(t *testing.T) {
	s, c, _, _ := startFake(t)
	sc := s.AddSchedule(pagerdutyfake.Schedule{Name: "S"})
	for _, tc := range []struct {
		name string
		opts pagerduty.ListOnCallOptions
		code int
	}{
		{"until before since", pagerduty.ListOnCallOptions{Since: t0.Format(time.RFC3339), Until: t0.Add(-time.Hour).Format(time.RFC3339)}, 2005},
		{"since not a time", pagerduty.ListOnCallOptions{Since: "yesterday"}, 2004},
		{"unknown include", pagerduty.ListOnCallOptions{Includes: []string{"teams"}}, 2001},
		{"unknown time zone", pagerduty.ListOnCallOptions{TimeZone: "Mars/Olympus"}, 2001},
	} {
		tc.opts.ScheduleIDs = []string{sc}
		if _, err := c.ListOnCallsWithContext(context.Background(), tc.opts); !isStatus(err, 400, tc.code) {
			t.Errorf("%s: %v, want 400 with code %d", tc.name, err, tc.code)
		}
	}
}

func TestAuthentication(t *testing.T) {
	s, _, _, base := startFake(t)
	sc := s.AddSchedule(pagerdutyfake.Schedule{Name: "S"})
	wrong := pagerduty.NewClient("not-a-key", pagerduty.WithAPIEndpoint(base))
	_, err := wrong.ListOnCallsWithContext(context.Background(), nowOptions(sc))
	if !isStatus(err, 401, 2006) {
		t.Errorf("wrong token: %v", err)
	}
	oauth := pagerduty.NewClient(token, pagerduty.WithAPIEndpoint(base), pagerduty.WithOAuth())
	if _, err := oauth.GetScheduleWithContext(context.Background(), sc, pagerduty.GetScheduleOptions{}); !isStatus(err, 401, 2006) {
		t.Errorf("a token sent as Bearer: %v", err)
	}
	resp, err := http.Get(base + "/oncalls")
	mustNil(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || string(body) != `{"error":{"message":"Authentication failed","code":2006}}` {
		t.Errorf("no credentials: %d %s", resp.StatusCode, body)
	}
}

func TestFaults(t *testing.T) {
	s, c, _, base := startFake(t)
	sc := s.AddSchedule(pagerdutyfake.Schedule{Name: "S"})

	s.SetFault(pagerdutyfake.Fault{Status: 429, RateLimitReset: 7, Times: 1})
	req, _ := http.NewRequest("GET", base+"/oncalls", nil)
	req.Header.Set("Authorization", "Token token="+token)
	resp, err := http.DefaultClient.Do(req)
	mustNil(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("ratelimit-reset") != "7" || resp.Header.Get("ratelimit-remaining") != "0" ||
		string(body) != `{"error":{"message":"Rate Limit Exceeded","code":2020}}` {
		t.Errorf("rate limited: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if _, err := c.ListOnCallsWithContext(context.Background(), nowOptions(sc)); err != nil {
		t.Errorf("after the one 429: %v", err)
	}

	s.SetFault(pagerdutyfake.Fault{Status: 500, Times: 2})
	for range 2 {
		if _, err := c.ListOnCallsWithContext(context.Background(), nowOptions(sc)); !isStatus(err, 500, 2000) {
			t.Errorf("500: %v", err)
		}
	}
	s.SetFault(pagerdutyfake.Fault{Status: 503})
	_, err = c.ListOnCallsWithContext(context.Background(), nowOptions(sc))
	var apiErr pagerduty.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !apiErr.Temporary() {
		t.Errorf("503: %v", err)
	}
	s.ClearFault()

	s.SetFault(pagerdutyfake.Fault{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// go-pagerduty wraps the transport error with %v: the cause shows in
	// the context, not in the error chain.
	if _, err := c.ListOnCallsWithContext(ctx, nowOptions(sc)); err == nil || ctx.Err() != context.DeadlineExceeded {
		t.Errorf("slow answer: %v, want the client's deadline", err)
	}
	s.ClearFault()
	if n := s.Calls(pagerdutyfake.RouteListOnCalls); n != 6 {
		t.Errorf("calls = %d, want 6", n)
	}
}
