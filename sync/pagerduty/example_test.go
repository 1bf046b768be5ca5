package pagerduty_test

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accessportal/portal/sync/pagerduty"
	"github.com/accessportal/portal/sync/pagerdutyfake"
)

// A request by someone on call is approved until the earliest of the cap
// and the shift's end; when PagerDuty cannot be asked the error is the
// request's pending reason.
func ExampleClient_OnCall() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	fake, url, stop, err := pagerdutyfake.Start(pagerdutyfake.Options{Tokens: []string{"key"}, Clock: clock})
	if err != nil {
		panic(err)
	}
	defer stop()
	fake.AddUser(pagerdutyfake.User{Name: "Alice", Email: "alice@example.com"})
	schedule := fake.AddSchedule(pagerdutyfake.Schedule{Name: "Primary"})
	_ = fake.PutOnCall(schedule, "alice@example.com", now.Add(-time.Hour), now.Add(3*time.Hour))

	env := map[string]string{"PAGERDUTY_API_TOKEN": "key", "PAGERDUTY_API_URL": url}
	opts := pagerduty.OptionsFromEnv(func(k string) string { return env[k] })
	opts.Clock, opts.Registerer = clock, prometheus.NewRegistry()
	pd, err := pagerduty.New(opts)
	if err != nil {
		panic(err)
	}

	shift, onCall, err := pd.OnCall(context.Background(), "Alice@Example.com", []string{schedule})
	if err != nil {
		fmt.Println("pending:", err)
		return
	}
	maxDuration := 8 * time.Hour
	fmt.Println(onCall, shift.ScheduleName, shift.EndOr(now.Add(maxDuration)).Format(time.RFC3339))

	fake.SetFault(pagerdutyfake.Fault{Status: 503})
	_, onCall, err = pd.OnCall(context.Background(), "bob@example.com", []string{schedule, "PBACKUP"})
	fmt.Println(onCall, "pending:", err)
	// Output:
	// true Primary 2026-03-02T12:00:00Z
	// false pending: PagerDuty failed (503 Service Unavailable)
}
