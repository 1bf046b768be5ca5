package web

import (
	"context"
	"time"
)

// IntegrationReport is what the dashboard says about the portal's
// counterparts: a line per refused credential or missing scope, and the
// people who hold access but have no user in the tailnet.
type IntegrationReport struct {
	// Problems are one clear line each ("Okta refuses the portal's
	// credential (401) …", "The Tailscale credential lacks the devices:posture_attributes scope …").
	Problems []string
	// Unconnected are people with access and no tailnet user.
	Unconnected []UnconnectedPerson
}

// UnconnectedPerson holds access (the managed groups listed) but has no
// user in the tailnet.
type UnconnectedPerson struct {
	Email  string
	Groups []string
}

// evidencePeriod is the evidence form's default period, as dates.
type evidencePeriod struct{ Since, Until string }

// defaultEvidencePeriod is the last 30 days, today included.
func defaultEvidencePeriod(now time.Time) evidencePeriod {
	day := now.UTC().Truncate(24 * time.Hour)
	return evidencePeriod{Since: day.AddDate(0, 0, -29).Format(time.DateOnly), Until: day.AddDate(0, 0, 1).Format(time.DateOnly)}
}

// IntegrationCheck computes the dashboard's IntegrationReport.
type IntegrationCheck func(ctx context.Context) IntegrationReport
