package web_test

import (
	"context"
	"html"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/grants/evidence"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/web"
)

// newIntegrationsPortal is a portal whose dashboard reports report, with
// evidence packets, and alice (admin) and bob signed-in-able.
func newIntegrationsPortal(t *testing.T, db *database.DB, report web.IntegrationReport) *oidcPortal {
	t.Helper()
	okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeOkta)
	tp := &testPortal{db: db, now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	tp.catalog = &grants.Catalog{Admins: []string{"Portal Admins"}, Groups: map[string]string{}, Resources: map[string]grants.Resource{}}
	tp.srv = servePortal(t, web.Options{
		DB: db, Catalog: func() *grants.Catalog { return tp.catalog }, Clock: func() time.Time { return tp.now },
		OIDC:         &web.OIDCConfig{Issuer: oktaURL, ClientID: "portal", ClientSecret: "s3cret"},
		Integrations: func(context.Context) web.IntegrationReport { return report },
		Evidence: func(ctx context.Context, w io.Writer, since, until time.Time) (*evidence.Summary, error) {
			return (&evidence.Packet{Store: evidence.NewDBStore(db.DB)}).Write(ctx, w, since, until)
		},
	})
	okta.AddClient(oktafake.Client{ID: "portal", Secret: "s3cret", RedirectURIs: []string{tp.srv.URL + "/auth/callback"}})
	for _, u := range []struct{ email, group string }{{"alice@example.com", "Portal Admins"}, {"bob@example.com", "Engineering"}} {
		// A person is their Okta user id: the snapshot row has Okta's id.
		id := okta.AddUser(oktafake.User{Login: u.email, Email: u.email})
		addUser(t, db, id, u.email, grants.StatusActive, u.group)
	}
	return &oidcPortal{testPortal: tp, okta: okta}
}

func TestDashboardShowsIntegrationProblemsAndEvidenceForm(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		report := web.IntegrationReport{
			Problems: []string{
				"Okta refuses the portal's credential (HTTP 401): replace OKTA_API_TOKEN.",
				"The Tailscale credential lacks the logs:configuration:read scope: evidence packets lack the log.",
			},
			Unconnected: []web.UnconnectedPerson{{Email: "erin@example.com", Groups: []string{"group:eng", "group:jit-prod-db"}}},
		}
		p := newIntegrationsPortal(t, db, report)
		err := grants.AppendAudit(t.Context(), db.DB, grants.Event{At: p.now, Actor: "system", Action: "sync.drift", Target: "group:jit-prod-db",
			Details: map[string]any{"expected": []string{"bob@example.com"}, "found": []string{}, "added": []string{}, "removed": []string{"bob@example.com"}, "changedBy": "gitops-bot@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		alice, bob := browser(t), browser(t)
		p.signIn(t, alice, "alice@example.com", "/")
		p.signIn(t, bob, "bob@example.com", "/")

		res, body := get(t, alice, p.srv.URL+"/admin")
		body = html.UnescapeString(body)
		if res.StatusCode != 200 {
			t.Fatalf("/admin = %d", res.StatusCode)
		}
		for _, want := range []string{
			`<div class="banner" role="alert">Okta refuses the portal's credential (HTTP 401)`,
			"lacks the logs:configuration:read scope",
			"Granted but cannot connect", "<td>erin@example.com</td><td><code>group:eng</code>, <code>group:jit-prod-db</code></td>",
			`<code>group:jit-prod-db</code><br><span class="muted">changed by gitops-bot@example.com</span>`,
			`<form method="get" action="/admin/evidence"`,
			`name="since" value="2026-10-23"`, `name="until" value="2026-11-22"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("dashboard lacks %q", want)
			}
		}

		res, zip := get(t, alice, p.srv.URL+"/admin/evidence?since=2026-10-23&until=2026-11-22")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(zip, "PK") {
			t.Errorf("dashboard download = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		res, body = get(t, alice, p.srv.URL+"/admin/evidence?since=2026-11-22&until=2026-10-23")
		if res.StatusCode != 400 || !strings.Contains(body, "since must be before until") {
			t.Errorf("reversed period = %d", res.StatusCode)
		}
		if res, _ := get(t, bob, p.srv.URL+"/admin/evidence?since=2026-10-23&until=2026-11-22"); res.StatusCode != 403 {
			t.Errorf("non-admin download = %d", res.StatusCode)
		}
	})
}

func TestDashboardWithoutIntegrationProblems(t *testing.T) {
	db := dbtest.SQLite(t)
	p := newIntegrationsPortal(t, db, web.IntegrationReport{})
	alice := browser(t)
	p.signIn(t, alice, "alice@example.com", "/")
	_, body := get(t, alice, p.srv.URL+"/admin")
	if strings.Contains(body, `role="alert"`) || strings.Contains(body, "cannot connect") {
		t.Errorf("dashboard shows problems that are not there")
	}
}
