package pagerdutyfake_test

import (
	"sync"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/accessportal/portal/sync/pagerdutyfake"
)

// clock is a settable clock for the fake.
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

const token = "u+read-only-key"

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// startFake starts a fake with one token and a clock at t0, and returns a
// go-pagerduty client pointed at it.
func startFake(t *testing.T) (*pagerdutyfake.Server, *pagerduty.Client, *clock, string) {
	t.Helper()
	clk := &clock{now: t0}
	s, base, stop, err := pagerdutyfake.Start(pagerdutyfake.Options{Tokens: []string{token}, Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s, pagerduty.NewClient(token, pagerduty.WithAPIEndpoint(base)), clk, base
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func parseTime(t *testing.T, v string) time.Time {
	t.Helper()
	if v == "" {
		return time.Time{}
	}
	tm, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t.Fatalf("time %q: %v", v, err)
	}
	return tm
}
