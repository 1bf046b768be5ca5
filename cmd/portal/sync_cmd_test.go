package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/sync/tailnetfake"
)

func TestSyncDryRunPrintsTheDiffAndChangesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "okta-token", RateLimitPerMinute: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer closeOkta()
		tailnet, tailnetURL, closeTailnet, err := tailnetfake.Start(tailnetfake.Options{Tailnet: "example.com", APIKeys: []string{"tskey"}, Policy: demoPolicy})
		if err != nil {
			t.Fatal(err)
		}
		defer closeTailnet()
		seedDemoOkta(okta)
		catalog := filepath.Join(t.TempDir(), "catalog.hujson")
		os.WriteFile(catalog, demoCatalog, 0o600)
		env := []string{
			"DATABASE_URL=" + db.URL, "PORTAL_CATALOG=" + catalog,
			"OKTA_ORG_URL=" + oktaURL, "OKTA_API_TOKEN=okta-token",
			"OIDC_ISSUER=" + oktaURL, "OIDC_CLIENT_ID=c", "OIDC_CLIENT_SECRET=s",
			"TAILSCALE_API_URL=" + tailnetURL, "TAILSCALE_API_KEY=tskey",
		}
		before, _ := tailnet.Policy()

		r := portal(t, env, "sync", "--dry-run")
		if r.code != 0 {
			t.Fatalf("dry run: exit %d\n%s", r.code, r.stderr)
		}
		for _, want := range []string{"--- tailnet policy (current)", "+++ tailnet policy (after reconcile)", `+			"bob@example.com",`, `"group:sre": ["dave@example.com"]`} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("diff lacks %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "frank@example.com") {
			t.Errorf("the diff adds a SUSPENDED user:\n%s", r.stdout)
		}
		if after, _ := tailnet.Policy(); string(after) != string(before) || tailnet.Writes() != 0 {
			t.Fatalf("dry run wrote the policy (%d writes)", tailnet.Writes())
		}
		var users, events int64
		db.Table("directory_users").Count(&users)
		db.Table("audit_events").Count(&events)
		if users != 0 || events != 0 {
			t.Fatalf("dry run changed the database: %d users, %d audit events", users, events)
		}

		r = portal(t, env, "sync")
		if r.code != 0 || tailnet.Writes() != 1 {
			t.Fatalf("sync: exit %d, %d writes\n%s", r.code, tailnet.Writes(), r.stderr)
		}
		after, _ := tailnet.Policy()
		if !strings.Contains(string(after), `"bob@example.com"`) || !strings.Contains(string(after), `"group:finance": ["zoe@example.com"], // not managed by the portal`) {
			t.Errorf("policy after sync:\n%s", after)
		}
		r = portal(t, env, "sync", "--dry-run")
		if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "up to date") {
			t.Errorf("dry run after sync: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}
