package main

import (
	"fmt"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/pagerdutyfake"
)

// The demo's PagerDuty account: its API key and the schedule that
// prod-db's onCall rule names (demo/catalog.hujson).
const (
	demoPagerDutyToken    = "demo-pagerduty-key"
	demoPagerDutySchedule = "PSRE7Q1"
	demoOnCall            = "erin@example.com"
)

// startDemoPagerDuty starts the simulated PagerDuty account with the demo
// people and the SRE schedule, Erin on call in it for eight hours from now.
// It returns the account, its URL (PAGERDUTY_API_URL and the page to put
// people on and off call) and the function that stops it.
func startDemoPagerDuty(now time.Time) (*pagerdutyfake.Server, string, func(), error) {
	pd, url, stop, err := pagerdutyfake.Start(pagerdutyfake.Options{Tokens: []string{demoPagerDutyToken}})
	if err != nil {
		return nil, "", nil, fmt.Errorf("starting the simulated PagerDuty: %w", err)
	}
	seedDemoPagerDuty(pd)
	if err := pd.PutOnCall(demoPagerDutySchedule, demoOnCall, now.Add(-time.Hour), now.Add(8*time.Hour)); err != nil {
		stop()
		return nil, "", nil, fmt.Errorf("putting %s on call: %w", demoOnCall, err)
	}
	return pd, url, stop, nil
}

// seedDemoPagerDuty adds the present demo people as PagerDuty users and the
// SRE schedule, with nobody on call.
func seedDemoPagerDuty(pd *pagerdutyfake.Server) {
	for _, p := range demoPeople {
		if p.status == grants.StatusActive {
			pd.AddUser(pagerdutyfake.User{Name: p.first + " " + p.last, Email: p.email})
		}
	}
	pd.AddSchedule(pagerdutyfake.Schedule{ID: demoPagerDutySchedule, Name: "SRE primary"})
}
