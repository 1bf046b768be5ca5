package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// adminOffboardingPageSize is how many offboarding records one page lists.
const adminOffboardingPageSize = 25

// adminOffboardingPage lists offboarding records, newest first.
type adminOffboardingPage struct {
	adminChrome
	Email   string
	Records []adminOffboardingRow
	Pages   adminPager
}

// adminOffboardingRow is one person's offboarding and its timeline.
type adminOffboardingRow struct {
	grants.Offboarding
	Steps []adminTimelineStep
}

// adminTimelineStep is one moment of an offboarding.
type adminTimelineStep struct {
	Label string
	At    adminTime
	// After is the time since the previous step ("+1.2s"), when both are known.
	After string
	// State is "done", "waiting" (not yet) or "none" (did not happen).
	State string
	Note  string
}

// adminOffboarding lists offboarding records with their timelines.
func (s *Server) adminOffboarding(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	page := adminOffboardingPage{Email: strings.ToLower(strings.TrimSpace(q.Get("email")))}
	before, err := adminCursor(c, "before")
	if err != nil {
		return err
	}
	rows, more, err := s.store.OffboardingsPage(ctx, page.Email, before, adminOffboardingPageSize)
	if err != nil {
		return err
	}
	for _, o := range rows {
		page.Records = append(page.Records, adminOffboardingRow{Offboarding: o, Steps: offboardingTimeline(o)})
	}
	page.Pages.First = adminPageURL("/admin/offboarding", adminWithParam(q, "before", ""))
	if more {
		page.Pages.Next = adminPageURL("/admin/offboarding", adminWithParam(q, "before", fmt.Sprint(rows[len(rows)-1].ID)))
	}
	page.adminChrome = s.newAdminChrome(c, "/admin/offboarding")
	return s.render(c, http.StatusOK, "admin_offboarding.html", page)
}

// offboardingTimeline is the record's path: Okta's event received, the
// cascade started, the tailnet policy confirmed without the person, and,
// for someone ACTIVE again, the end.
func offboardingTimeline(o grants.Offboarding) []adminTimelineStep {
	var steps []adminTimelineStep
	var prev *time.Time
	add := func(label string, at *time.Time, state, note string) {
		st := adminTimelineStep{Label: label, At: newAdminTimePtr(at), State: state, Note: note}
		if at != nil {
			if prev != nil {
				st.After = "+" + adminPreciseDuration(at.Sub(*prev))
			}
			prev = at
		}
		steps = append(steps, st)
	}
	if o.EventReceivedAt != nil {
		add("Okta event received", o.EventReceivedAt, "done", "event "+o.EventUUID)
	} else {
		add("Okta event received", nil, "none", "none: found by the directory poll")
	}
	started := o.StartedAt
	add("Cascade started", &started, "done", "Okta status "+o.OktaStatus)
	switch {
	case o.PolicyConfirmedAt != nil:
		add("Tailnet policy confirmed", o.PolicyConfirmedAt, "done", "in no managed group any more")
	case o.EndedAt == nil:
		add("Tailnet policy confirmed", nil, "waiting", "waiting for the reconciler")
	}
	if o.EndedAt != nil {
		add("Ended", o.EndedAt, "done", "ACTIVE in Okta again; nothing was restored")
	}
	return steps
}

// adminPreciseDuration renders the short spans of a timeline: "850ms",
// "2.4s", then as adminDuration.
func adminPreciseDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return adminDuration(d)
}
