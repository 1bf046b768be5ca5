package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/sync/tailnetfake"
	"github.com/accessportal/portal/web"
)

// postureCatalog is the demo catalog with prod-db's second lock on.
var postureCatalog = strings.Replace(string(demoCatalog), `"requireReason": true,`, `"requireReason": true, "devicePosture": "custom:jit-prod-db",`, 1)

// probeApp builds (without running) a portal on fakes: Okta with
// oktaToken as the portal's token (the fake accepts "okta-token"), a tailnet
// whose OAuth client holds scopes.
func probeApp(t *testing.T, db *database.DB, oktaToken string, scopes []string) (*app, *tailnetfake.Server) {
	t.Helper()
	okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "okta-token", RateLimitPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeOkta)
	seedDemoOkta(okta)
	tn, tnURL, closeTailnet, err := tailnetfake.Start(tailnetfake.Options{Tailnet: "example.com", Policy: demoPolicy,
		ScopedClients: []tailnetfake.OAuthClient{{ID: "portal-client", Secret: "tskey-client-secret", Scopes: scopes}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeTailnet)
	catalog := filepath.Join(t.TempDir(), "catalog.hujson")
	os.WriteFile(catalog, []byte(postureCatalog), 0o600)
	a, err := newApp(t.Context(), &config{
		BaseURL: "http://portal.test", DatabaseURL: db.URL, CatalogPath: catalog, SyncInterval: time.Hour,
		OktaOrgURL: oktaURL, OktaAPIToken: oktaToken, OIDCIssuer: oktaURL, OIDCClientID: "c", OIDCClientSecret: "s",
		TailscaleAPIURL: tnURL, TailscaleTailnet: "-", TailscaleOAuthClientID: "portal-client", TailscaleOAuthClientSecret: "tskey-client-secret",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.db.Close() })
	return a, tn
}

func TestDashboardIntegrationLines(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		// Okta refuses the token; the OAuth client was created with
		// policy_file only.
		a, tn := probeApp(t, db, "revoked-token", []string{"policy_file"})
		tn.AddDevice(tailnetfake.Device{Name: "bob-laptop.example.ts.net", User: "bob@example.com"})
		if _, err := a.directory.Poll(context.Background(), a.store, a.catalog.Current().OktaGroups(), true); err == nil {
			t.Fatal("a poll with a revoked token succeeded")
		}
		r := (&integrationProbe{a: a, ttl: time.Minute}).Report(t.Context())
		text := strings.Join(r.Problems, "\n")
		for _, want := range []string{
			"Okta refuses the portal's credential (HTTP 401)",
			"lacks the devices:core:read scope",
			"lacks the logs:configuration:read scope",
			"lacks the users:read scope",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("dashboard lines lack %q:\n%s", want, text)
			}
		}
		if len(r.Problems) != 4 {
			t.Errorf("%d lines, want 4 (one each):\n%s", len(r.Problems), text)
		}
	})
}

func TestDashboardPostureScopeAndUnconnectedPeople(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		// Devices and users readable, posture attributes not.
		a, tn := probeApp(t, db, "okta-token", []string{"policy_file", "devices:core:read", "users:read", "logs:configuration:read"})
		tn.AddDevice(tailnetfake.Device{Name: "bob-laptop.example.ts.net", User: "bob@example.com"})
		for _, login := range []string{"alice@example.com", "bob@example.com"} {
			tn.AddUser(login)
		}
		if _, err := a.directory.Poll(context.Background(), a.store, a.catalog.Current().OktaGroups(), true); err != nil {
			t.Fatalf("poll: %v", err)
		}
		giveGrant(t, db, "erin@example.com")
		r := (&integrationProbe{a: a, ttl: time.Minute}).Report(t.Context())
		text := strings.Join(r.Problems, "\n")
		if len(r.Problems) != 1 || !strings.Contains(text, "lacks the devices:posture_attributes scope") {
			t.Errorf("dashboard lines:\n%s\nwant only the posture scope", text)
		}
		// Engineering: alice, bob, dave, erin; SRE: dave. alice and bob
		// have tailnet users.
		want := []web.UnconnectedPerson{
			{Email: "dave@example.com", Groups: []string{"group:eng", "group:sre"}},
			{Email: "erin@example.com", Groups: []string{"group:eng", "group:jit-prod-db"}},
		}
		if !sameUnconnected(r.Unconnected, want) {
			t.Errorf("unconnected %+v, want %+v", r.Unconnected, want)
		}
	})
}

func sameUnconnected(a, b []web.UnconnectedPerson) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Email != b[i].Email || strings.Join(a[i].Groups, ",") != strings.Join(b[i].Groups, ",") {
			return false
		}
	}
	return true
}
