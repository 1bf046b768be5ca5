package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/pagerduty"
)

// requirePagePerson sends people who are not signed in to sign-in, and
// back here afterwards.
func (s *Server) requirePagePerson(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, _, err := s.sessionPerson(c); err != nil {
			return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		return next(c)
	}
}

// requireAdminPage refuses signed-in people who are not admins.
func (s *Server) requireAdminPage(next echo.HandlerFunc) echo.HandlerFunc {
	return s.requirePagePerson(func(c echo.Context) error {
		if _, admin, _ := s.sessionPerson(c); !admin {
			return httpError(http.StatusForbidden, "this page is for portal admins")
		}
		return next(c)
	})
}

// adminPage is the data of the admin dashboard: the sync status.
type adminPage struct {
	adminChrome
	Status        grants.SyncStatus
	Holds         []grants.SyncHold
	CatalogSource string
	Groups        []adminGroup
	Drift         []adminDrift
	Notifications grants.NotificationStatus
	// PagerDuty is PagerDuty's state (on-call approval); nil when it is
	// not configured.
	PagerDuty *pagerduty.Status
	// Evidence is the default period of the evidence packet form.
	Evidence evidencePeriod
	// Integrations are problems with the Okta and Tailscale credentials
	// and the people who cannot connect, one line each.
	Integrations IntegrationReport
	Overview     adminOverview
}

// adminDriftShown is how many recent drift events the dashboard lists.
const adminDriftShown = 10

// adminDrift is one hand edit of a managed group that a reconcile undid.
type adminDrift struct {
	ID      int64
	At      adminTime
	Group   string
	Added   []string
	Removed []string
	// ChangedBy is who changed the policy, when a webhook said so.
	ChangedBy string
}

type adminGroup struct {
	Tailscale, Okta string
}

// newAdminDrift reads what a sync.drift event says was added to and removed
// from the group by hand.
func newAdminDrift(e grants.AuditEvent) adminDrift {
	var d struct {
		Added     []string `json:"added"`
		Removed   []string `json:"removed"`
		ChangedBy string   `json:"changedBy"`
	}
	json.Unmarshal([]byte(e.Details), &d)
	return adminDrift{ID: e.ID, At: newAdminTime(e.At), Group: e.Target, Added: d.Added, Removed: d.Removed, ChangedBy: d.ChangedBy}
}

// adminChrome is what every admin page shows around its content: the
// navigation between the admin sections and the flash message.
type adminChrome struct {
	Nav   []adminNavLink
	Flash string
}

// adminNavLink is one admin section in the navigation.
type adminNavLink struct {
	Href, Label string
	Current     bool
}

// adminSections are the admin pages, in the order of the navigation.
var adminSections = []adminNavLink{
	{Href: "/admin", Label: "Overview"},
	{Href: "/admin/access", Label: "Who has access"},
	{Href: "/admin/requests", Label: "Pending requests"},
	{Href: "/admin/offboarding", Label: "Offboarding"},
	{Href: "/admin/audit", Label: "Audit log"},
	{Href: "/admin/tokens", Label: "API tokens"},
	{Href: "/admin/catalog", Label: "Catalog"},
}

// newAdminChrome builds the navigation with current marked, and pops the
// flash message.
func (s *Server) newAdminChrome(c echo.Context, current string) adminChrome {
	nav := make([]adminNavLink, len(adminSections))
	for i, l := range adminSections {
		l.Current = l.Href == current
		nav[i] = l
	}
	return adminChrome{Nav: nav, Flash: s.popFlash(c)}
}

// adminTime is a moment as the admin pages show it: UTC, to the second,
// with a machine-readable form for <time datetime>.
type adminTime struct{ t time.Time }

func newAdminTime(t time.Time) adminTime { return adminTime{t: t} }

func newAdminTimePtr(t *time.Time) adminTime {
	if t == nil {
		return adminTime{}
	}
	return adminTime{t: *t}
}

// IsZero reports whether there is no time (never, not yet).
func (a adminTime) IsZero() bool { return a.t.IsZero() }

// ISO is the time in RFC 3339, UTC.
func (a adminTime) ISO() string { return a.t.UTC().Format(time.RFC3339) }

// Text is the time for people.
func (a adminTime) Text() string { return a.t.UTC().Format("2006-01-02 15:04:05 UTC") }

// Input is the time as a datetime-local form value.
func (a adminTime) Input() string { return a.t.UTC().Format("2006-01-02T15:04:05") }

// adminDuration renders a span for people: "2h 5m", "3m 10s", "4s", "3d 2h".
func adminDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Second)
	days, h, m, sec := d/(24*time.Hour), (d/time.Hour)%24, (d/time.Minute)%60, (d/time.Second)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, sec)
	}
	return fmt.Sprintf("%ds", sec)
}

// adminTimeLeft is what the countdown shows before its script runs.
func adminTimeLeft(until, now time.Time) string {
	if !until.After(now) {
		return "expired"
	}
	return adminDuration(until.Sub(now)) + " left"
}

// adminBack is where a form returns to: v when it is a path on this site
// under one of the allowed prefixes, otherwise the first of them.
func adminBack(v string, allowed ...string) string {
	if strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") && !strings.ContainsAny(v, "\\\r\n") {
		for _, a := range allowed {
			if v == a || strings.HasPrefix(v, a+"?") || strings.HasPrefix(v, a+"/") {
				return v
			}
		}
	}
	return allowed[0]
}

// adminPageURL is path with the query q, parameters with empty values left out.
func adminPageURL(path string, q url.Values) string {
	clean := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			if v != "" {
				clean.Add(k, v)
			}
		}
	}
	if len(clean) == 0 {
		return path
	}
	return path + "?" + clean.Encode()
}

// adminWithParam is a copy of q with key set to v (removed when v is empty) and
// every key of drop removed.
func adminWithParam(q url.Values, key, v string, drop ...string) url.Values {
	out := url.Values{}
	for k, vs := range q {
		out[k] = append([]string(nil), vs...)
	}
	for _, d := range drop {
		out.Del(d)
	}
	if v == "" {
		out.Del(key)
	} else {
		out.Set(key, v)
	}
	return out
}

// adminCursor parses an optional positive id used as a page cursor.
func adminCursor(c echo.Context, name string) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, httpError(http.StatusBadRequest, name+" must be a positive whole number, not "+strconv.Quote(v))
	}
	return id, nil
}
