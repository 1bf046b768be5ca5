package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/accessportal/portal/sync/pagerdutyfake"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const token = "read-only-key"

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type env struct {
	fake    *pagerdutyfake.Server
	url     string
	clk     *clock
	primary string // schedule "Primary"
	backup  string // schedule "Backup"
}

// newEnv starts a simulated account with Alice, Bob and Carol and two
// schedules, nobody on call yet.
func newEnv(t *testing.T) *env {
	t.Helper()
	clk := &clock{now: t0}
	fake, base, stop, err := pagerdutyfake.Start(pagerdutyfake.Options{Tokens: []string{token}, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	for _, name := range []string{"Alice", "Bob", "Carol"} {
		fake.AddUser(pagerdutyfake.User{Name: name, Email: strings.ToLower(name) + "@example.com"})
	}
	return &env{
		fake: fake, url: base, clk: clk,
		primary: fake.AddSchedule(pagerdutyfake.Schedule{Name: "Primary"}),
		backup:  fake.AddSchedule(pagerdutyfake.Schedule{Name: "Backup", EscalationLevel: 2}),
	}
}

func (e *env) client(t *testing.T, opts Options) *Client {
	t.Helper()
	if opts.Token == "" {
		opts.Token = token
	}
	if opts.APIURL == "" {
		opts.APIURL = e.url
	}
	opts.Clock = e.clk.Now
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(context.Context, time.Duration) error {
		t.Error("the client waited without a test asking for it")
		return nil
	}
	return c
}

func (e *env) onCall(t *testing.T, schedule, email string, start, end time.Time) {
	t.Helper()
	if err := e.fake.PutOnCall(schedule, email, start, end); err != nil {
		t.Fatal(err)
	}
}

func (e *env) calls() int { return e.fake.Calls(pagerdutyfake.RouteListOnCalls) }

func TestOnCallFindsTheShiftAndItsEnd(t *testing.T) {
	e := newEnv(t)
	end := t0.Add(6 * time.Hour)
	e.onCall(t, e.backup, "alice@example.com", t0.Add(-2*time.Hour), end)
	e.onCall(t, e.primary, "bob@example.com", t0.Add(-time.Hour), t0.Add(time.Hour))
	reg := prometheus.NewRegistry()
	c := e.client(t, Options{Registerer: reg})

	shift, ok, err := c.OnCall(context.Background(), "ALICE@example.com", []string{e.primary, e.backup})
	if err != nil || !ok {
		t.Fatalf("OnCall = %v, %v; want on call", ok, err)
	}
	if shift.ScheduleID != e.backup || shift.ScheduleName != "Backup" || !shift.End.Equal(end) ||
		!shift.Start.Equal(t0.Add(-2*time.Hour)) || shift.EscalationLevel != 2 || shift.Email != "alice@example.com" {
		t.Errorf("shift = %+v", shift)
	}
	if _, ok, err := c.OnCall(context.Background(), "carol@example.com", []string{e.primary, e.backup}); ok || err != nil {
		t.Errorf("Carol: on call %v, %v; want not on call", ok, err)
	}
	if _, ok, _ := c.OnCall(context.Background(), "alice@example.com", []string{e.primary}); ok {
		t.Error("Alice is on call in Backup, not in Primary")
	}
	q := lastQuery(t, e.fake)
	if q.Get("since") != "2026-03-02T09:00:00Z" || q.Get("until") != "2026-03-02T09:00:00Z" ||
		q.Get("include[]") != "users" || q.Get("limit") != "100" || q["schedule_ids[]"][0] != e.primary {
		t.Errorf("query = %v", q)
	}
	if st := c.Status(); !st.LastSuccess.Equal(t0) || !st.Up() || st.LastError != "" {
		t.Errorf("status = %+v", st)
	}
	if n := callCount(t, c, OutcomeOK); n != 2 {
		t.Errorf("ok calls = %v, want 2 (one per set of schedules)", n)
	}
	if n := seriesCount(t, reg, "portal_pagerduty_calls_total"); n != len(outcomes) {
		t.Errorf("registered series = %d, want one per outcome", n)
	}
}

func callCount(t *testing.T, c *Client, outcome string) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.metrics.calls.WithLabelValues(outcome).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func seriesCount(t *testing.T, reg *prometheus.Registry, name string) int {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return len(f.GetMetric())
		}
	}
	return 0
}

func lastQuery(t *testing.T, fake *pagerdutyfake.Server) url.Values {
	t.Helper()
	reqs := fake.Requests()
	q, err := url.ParseQuery(reqs[len(reqs)-1].Query)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestOpenEndedShiftIsCappedByTheCaller(t *testing.T) {
	e := newEnv(t)
	e.onCall(t, e.primary, "bob@example.com", t0.Add(-time.Hour), time.Time{})
	c := e.client(t, Options{})
	shift, ok, err := c.OnCall(context.Background(), "bob@example.com", []string{e.primary})
	if err != nil || !ok || !shift.OpenEnded() {
		t.Fatalf("OnCall = %+v, %v, %v", shift, ok, err)
	}
	limit := t0.Add(4 * time.Hour)
	if got := shift.EndOr(limit); !got.Equal(limit) {
		t.Errorf("EndOr = %s, want the cap", got)
	}
	closed := Shift{End: t0.Add(time.Hour)}
	if got := closed.EndOr(limit); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("EndOr of a closed shift = %s", got)
	}
}

func TestOnCallFollowsEveryPage(t *testing.T) {
	e := newEnv(t)
	for i := range 240 {
		email := fmt.Sprintf("responder%03d@example.com", i)
		e.fake.AddUser(pagerdutyfake.User{Name: email, Email: email})
		e.onCall(t, e.primary, email, t0.Add(-time.Minute), t0.Add(time.Hour))
	}
	e.onCall(t, e.primary, "carol@example.com", t0, t0.Add(2*time.Hour)) // the latest start: last page
	c := e.client(t, Options{})
	shifts, err := c.OnCallNow(context.Background(), []string{e.primary})
	if err != nil || len(shifts) != 241 {
		t.Fatalf("OnCallNow = %d shifts, %v; want 241", len(shifts), err)
	}
	if e.calls() != 3 {
		t.Errorf("pages asked = %d, want 3", e.calls())
	}
	if q := lastQuery(t, e.fake); q.Get("offset") != "200" {
		t.Errorf("last page offset = %s", q.Get("offset"))
	}
	c2 := e.client(t, Options{})
	if shift, ok, err := c2.OnCall(context.Background(), "carol@example.com", []string{e.primary}); !ok || err != nil || !shift.End.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("Carol on the last page: %v %v %+v", ok, err, shift)
	}
}

func TestFailuresAreBoundedAndSayWhy(t *testing.T) {
	e := newEnv(t)
	e.onCall(t, e.primary, "alice@example.com", t0, t0.Add(time.Hour))
	for _, tc := range []struct {
		name    string
		fault   pagerdutyfake.Fault
		opts    Options
		outcome string
		want    string
	}{
		{"500", pagerdutyfake.Fault{Status: 500}, Options{}, OutcomeServerError, "PagerDuty failed (500 An internal error has occurred. PagerDuty team has been notified.)"},
		{"503", pagerdutyfake.Fault{Status: 503}, Options{}, OutcomeServerError, "PagerDuty failed (503 Service Unavailable)"},
		{"429 beyond the bound", pagerdutyfake.Fault{Status: 429, RateLimitReset: 20}, Options{}, OutcomeRateLimited,
			"PagerDuty is rate limiting the portal (429 Rate Limit Exceeded); it asks to wait 20s, longer than the 3s bound"},
		{"slow", pagerdutyfake.Fault{Delay: time.Minute}, Options{Timeout: 100 * time.Millisecond}, OutcomeTimeout, "PagerDuty did not answer within 100ms"},
		{"wrong key", pagerdutyfake.Fault{}, Options{Token: "revoked"}, OutcomeRefused, "PagerDuty refused the API key (401 Authentication failed)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.fake.SetFault(tc.fault)
			defer e.fake.ClearFault()
			e.clk.Advance(time.Minute) // past the cache of the previous case
			c := e.client(t, tc.opts)
			start := time.Now()
			_, ok, err := c.OnCall(context.Background(), "alice@example.com", []string{e.primary})
			if ok || err == nil {
				t.Fatalf("OnCall = %v, %v; want an error and nobody on call", ok, err)
			}
			if waited := time.Since(start); waited > c.Timeout()+2*time.Second {
				t.Errorf("answered after %s, beyond the %s bound", waited, c.Timeout())
			}
			var pdErr *Error
			if !errors.As(err, &pdErr) || pdErr.Outcome != tc.outcome || err.Error() != tc.want {
				t.Errorf("error = %q (%+v), want %q (%s)", err, pdErr, tc.want, tc.outcome)
			}
			if st := c.Status(); st.LastError != tc.want || st.Up() {
				t.Errorf("status = %+v", st)
			}
			if n := callCount(t, c, tc.outcome); n != 1 {
				t.Errorf("%s calls = %v, want 1", tc.outcome, n)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	c := e.client(t, Options{APIURL: closed})
	_, ok, err := c.OnCall(context.Background(), "alice@example.com", []string{e.primary})
	var pdErr *Error
	if ok || !errors.As(err, &pdErr) || pdErr.Outcome != OutcomeUnreachable ||
		!strings.HasPrefix(err.Error(), "PagerDuty unreachable: dial tcp") || strings.Contains(err.Error(), "\n") {
		t.Errorf("OnCall = %v, %v", ok, err)
	}
}

func TestRateLimitWaitWithinTheBoundIsHonoured(t *testing.T) {
	e := newEnv(t)
	e.onCall(t, e.primary, "alice@example.com", t0, t0.Add(time.Hour))
	e.fake.SetFault(pagerdutyfake.Fault{Status: 429, RateLimitReset: 1, Times: 1})
	c := e.client(t, Options{})
	var waited []time.Duration
	c.sleep = func(_ context.Context, d time.Duration) error {
		waited = append(waited, d)
		return nil
	}
	_, ok, err := c.OnCall(context.Background(), "alice@example.com", []string{e.primary})
	if !ok || err != nil {
		t.Fatalf("OnCall after one 429 = %v, %v", ok, err)
	}
	if len(waited) != 1 || waited[0] != time.Second || e.calls() != 2 {
		t.Errorf("waited %v over %d calls; want 1s then a retry", waited, e.calls())
	}
	if n := callCount(t, c, OutcomeRateLimited); n != 1 {
		t.Errorf("rate_limited calls = %v", n)
	}
}

func TestRetryAfterHeaders(t *testing.T) {
	now := t0
	for _, tc := range []struct {
		header http.Header
		want   time.Duration
	}{
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After": {now.Add(5 * time.Second).Format(http.TimeFormat)}}, 5 * time.Second},
		{http.Header{"Ratelimit-Reset": {"20"}}, 20 * time.Second},
		{http.Header{}, -1},
		{http.Header{"Ratelimit-Reset": {"soon"}}, -1},
	} {
		if got := retryAfter(tc.header, now); got != tc.want {
			t.Errorf("retryAfter(%v) = %s, want %s", tc.header, got, tc.want)
		}
	}
}

func TestAnswersAreCachedBriefly(t *testing.T) {
	e := newEnv(t)
	e.onCall(t, e.primary, "alice@example.com", t0.Add(-time.Hour), t0.Add(8*time.Hour))
	c := e.client(t, Options{CacheTTL: 5 * time.Second})
	ask := func() bool {
		t.Helper()
		_, ok, err := c.OnCall(context.Background(), "alice@example.com", []string{e.primary, e.primary})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !ask() || !ask() || e.calls() != 1 {
		t.Fatalf("two lookups within the TTL made %d calls, want 1", e.calls())
	}
	// Taken off call early: seen once the TTL has passed.
	if err := e.fake.EndShift(e.primary, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(4 * time.Second)
	if !ask() {
		t.Error("the cached answer was not used within the TTL")
	}
	e.clk.Advance(time.Second)
	if ask() || e.calls() != 2 {
		t.Errorf("after the TTL: still on call, or %d calls (want 2)", e.calls())
	}
}

func TestCacheIsNeverTrustedPastTheShiftEnd(t *testing.T) {
	e := newEnv(t)
	handover := t0.Add(10 * time.Minute)
	e.onCall(t, e.primary, "alice@example.com", t0.Add(-time.Hour), handover)
	e.onCall(t, e.primary, "bob@example.com", handover, handover.Add(8*time.Hour))
	c := e.client(t, Options{CacheTTL: time.Hour})
	lookup := func(email string) bool {
		t.Helper()
		_, ok, err := c.OnCall(context.Background(), email, []string{e.primary})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !lookup("alice@example.com") || lookup("bob@example.com") {
		t.Fatal("before the handover Alice, not Bob, is on call")
	}
	e.clk.Advance(9 * time.Minute)
	if !lookup("alice@example.com") || e.calls() != 1 {
		t.Fatalf("within the shift: %d calls, want the cached answer", e.calls())
	}
	e.clk.Advance(time.Minute)
	if lookup("alice@example.com") {
		t.Error("Alice is still on call at her shift's end")
	}
	if !lookup("bob@example.com") || e.calls() != 2 {
		t.Errorf("at the handover Bob is on call: %d calls, want 2", e.calls())
	}
}

// gate is a transport that holds every request until opened.
type gate struct {
	open chan struct{}
	next http.RoundTripper
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	<-g.open
	return g.next.RoundTrip(r)
}

func TestConcurrentLookupsShareOneCall(t *testing.T) {
	e := newEnv(t)
	e.onCall(t, e.primary, "alice@example.com", t0, t0.Add(time.Hour))
	g := &gate{open: make(chan struct{}), next: http.DefaultTransport}
	c := e.client(t, Options{HTTPClient: &http.Client{Transport: g}})
	const n = 8
	var wg sync.WaitGroup
	results := make(chan bool, n)
	for i := range n {
		wg.Go(func() {
			ids := []string{e.primary, e.backup}
			if i%2 == 1 {
				ids = []string{e.backup, e.primary} // same set, other order
			}
			_, ok, err := c.OnCall(context.Background(), "alice@example.com", ids)
			results <- ok && err == nil
		})
	}
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		l := c.inflight[strings.Join(normalizeIDs([]string{e.primary, e.backup}), ",")]
		return l != nil && l.waiters == n
	})
	close(g.open)
	wg.Wait()
	close(results)
	for ok := range results {
		if !ok {
			t.Error("a lookup did not find Alice on call")
		}
	}
	if e.calls() != 1 {
		t.Errorf("%d lookups made %d calls, want 1", n, e.calls())
	}
}

func TestAWaiterGivesUpWithItsContext(t *testing.T) {
	e := newEnv(t)
	g := &gate{open: make(chan struct{}), next: http.DefaultTransport}
	c := e.client(t, Options{HTTPClient: &http.Client{Transport: g}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := c.OnCall(ctx, "alice@example.com", []string{e.primary})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("OnCall with a cancelled context = %v", err)
	}
	close(g.open)
	waitFor(t, func() bool { return !c.Status().LastSuccess.IsZero() })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCheckSchedules(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, Options{})
	unknown, err := c.CheckSchedules(context.Background(), []string{e.primary, "PNOSUCH", e.backup, "../users/P1", e.primary})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(unknown, " ") != "../users/P1 PNOSUCH" {
		t.Errorf("unknown = %q", unknown)
	}
	if n := e.fake.Calls(pagerdutyfake.RouteGetSchedule); n != 3 {
		t.Errorf("schedules asked = %d, want 3 (each well-formed id once)", n)
	}
	e.fake.SetFault(pagerdutyfake.Fault{Status: 502})
	if _, err := c.CheckSchedules(context.Background(), []string{e.primary}); err == nil ||
		err.Error() != "checking PagerDuty schedule "+e.primary+": PagerDuty failed (502 Bad Gateway)" {
		t.Errorf("CheckSchedules during an outage = %v", err)
	}
}

func TestNewAndOptionsFromEnv(t *testing.T) {
	env := map[string]string{EnvToken: "k", EnvAPIURL: "https://api.eu.pagerduty.com/"}
	opts := OptionsFromEnv(func(k string) string { return env[k] })
	if opts.Token != "k" || opts.APIURL != "https://api.eu.pagerduty.com/" {
		t.Errorf("options = %+v", opts)
	}
	c, err := New(opts)
	if err != nil || c.Timeout() != DefaultTimeout || c.ttl != DefaultCacheTTL {
		t.Errorf("New = %+v, %v", c, err)
	}
	if _, err := New(Options{}); !errors.Is(err, ErrNoToken) {
		t.Errorf("New without a token = %v", err)
	}
	if _, err := New(Options{Token: "k", APIURL: "api.pagerduty.com"}); err == nil {
		t.Error("New accepted a URL without a scheme")
	}
	if shifts, err := c.OnCallNow(context.Background(), []string{" ", ""}); shifts != nil || err != nil {
		t.Errorf("no schedules: %v, %v", shifts, err)
	}
}
