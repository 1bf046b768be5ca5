package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/sync/tailnetfake"
)

// runningPortal is a whole portal (web, loops) on fakes, in this process.
type runningPortal struct {
	base    string
	okta    *oktafake.Server
	tailnet *tailnetfake.Server
	db      *database.DB
}

func startPortal(t *testing.T, db *database.DB, interval time.Duration) *runningPortal {
	t.Helper()
	return startPortalWithCatalog(t, db, interval, demoCatalog, 0)
}

// startPortalWithCatalog runs the portal on fakes; latency is added to every
// answer of the simulated tailnet; configure may change the configuration
// before the portal starts.
func startPortalWithCatalog(t testing.TB, db *database.DB, interval time.Duration, catalogText []byte, latency time.Duration, configure ...func(*config)) *runningPortal {
	t.Helper()
	return startPortalConfigured(t, db, interval, catalogText, latency, func(cfg *config) {
		for _, f := range configure {
			f(cfg)
		}
	})
}

// startPortalConfigured is startPortalWithCatalog with configure applied to
// the configuration (when not nil) before the portal opens.
func startPortalConfigured(t testing.TB, db *database.DB, interval time.Duration, catalogText []byte, latency time.Duration, configure func(*config)) *runningPortal {
	t.Helper()
	okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "okta-token", RateLimitPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeOkta)
	seedDemoOkta(okta)
	tailnet := tailnetfake.New(tailnetfake.Options{Tailnet: "example.com", APIKeys: []string{"tskey"}, Policy: demoPolicy})
	tailnetSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency) // simulated network latency, not synchronisation
		tailnet.ServeHTTP(w, r)
	}))
	t.Cleanup(tailnetSrv.Close)
	tailnetURL := tailnetSrv.URL
	catalog := filepath.Join(t.TempDir(), "catalog.hujson")
	os.WriteFile(catalog, catalogText, 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := &config{
		Addr: ln.Addr().String(), BaseURL: base, DatabaseURL: db.URL, CatalogPath: catalog, SyncInterval: interval, RequestTTL: 24 * time.Hour,
		OktaOrgURL: oktaURL, OktaAPIToken: "okta-token", OktaHookSecret: "hook-secret",
		OIDCIssuer: oktaURL, OIDCClientID: "c", OIDCClientSecret: "s",
		TailscaleAPIURL: tailnetURL, TailscaleTailnet: "-", TailscaleAPIKey: "tskey",
	}
	if configure != nil {
		configure(cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("portal run: %v", err)
		}
	})
	return &runningPortal{base: base, okta: okta, tailnet: tailnet, db: db}
}

// policyText is the tailnet policy now.
func (p *runningPortal) policyText() string {
	text, _ := p.tailnet.Policy()
	return string(text)
}

// policyHas reports whether the tailnet policy names email at all.
func (p *runningPortal) policyHas(email string) bool {
	text, _ := p.tailnet.Policy()
	return strings.Contains(string(text), `"`+email+`"`)
}

// giveGrant gives email an active prod-db grant, a session and a token
// (before the portal starts, so its first reconcile applies the grant).
func giveGrant(t testing.TB, db *database.DB, email string) {
	t.Helper()
	p := struct{ db *database.DB }{db}
	now := time.Now().UTC()
	g := grants.Grant{Resource: "prod-db", UserEmail: email, GroupName: "group:jit-prod-db", StartsAt: now, ExpiresAt: now.Add(time.Hour), Status: grants.GrantActive}
	if err := p.db.Create(&g).Error; err != nil {
		t.Fatal(err)
	}
	if err := p.db.Exec("INSERT INTO sessions (token, data, expiry, email) VALUES (?, ?, ?, ?)", "sess-"+email, []byte("x"), now.Add(time.Hour), email).Error; err != nil {
		t.Fatal(err)
	}
	if _, _, err := grants.NewStore(p.db).CreateToken(t.Context(), email, "cli", time.Hour, now); err != nil {
		t.Fatal(err)
	}
}

func TestOffboardingByOktaEventHook(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		// An hour between polls: only the event hook can make this fast.
		giveGrant(t, db, "bob@example.com")
		p := startPortal(t, db, time.Hour)
		waitFor(t, 20*time.Second, func() bool {
			var g grants.Grant
			db.Where("user_email = ?", "bob@example.com").Take(&g)
			return g.AppliedAt != nil
		})

		p.okta.AddEventHook(p.base+"/hooks/okta", "hook-secret")
		start := time.Now()
		if err := p.okta.SetUserStatus("bob@example.com", oktafake.StatusDeprovisioned); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, func() bool { return !p.policyHas("bob@example.com") })
		t.Logf("deactivation in Okta → policy without the user: %s", time.Since(start).Round(time.Millisecond))
		// The cascade runs beside the reconcile that drops them from the
		// synced groups; its record is confirmed once both are done.
		var rec grants.Offboarding
		waitFor(t, 20*time.Second, func() bool {
			db.Where("email = ?", "bob@example.com").Limit(1).Find(&rec)
			return rec.PolicyConfirmedAt != nil
		})

		var g grants.Grant
		db.Where("user_email = ?", "bob@example.com").Take(&g)
		if g.Status != grants.GrantRevoked || g.RevokedBy != "okta" || !strings.Contains(g.RevokeReason, "offboarded in Okta") {
			t.Errorf("grant after offboarding: %+v", g)
		}
		var sessions, liveTokens int64
		db.Table("sessions").Where("email = ?", "bob@example.com").Count(&sessions)
		db.Model(&grants.APIToken{}).Where("email = ? AND disabled_at IS NULL", "bob@example.com").Count(&liveTokens)
		if sessions != 0 || liveTokens != 0 {
			t.Errorf("after offboarding: %d sessions, %d live tokens", sessions, liveTokens)
		}
		if rec.EventUUID == "" || rec.EventReceivedAt == nil || rec.GrantsRevoked != 1 || rec.SessionsDeleted != 1 || rec.TokensDisabled != 1 || rec.OktaStatus != "DEPROVISIONED" {
			t.Errorf("offboarding record %+v", rec)
		}
		if n, err := grants.VerifyAudit(t.Context(), db.DB); err != nil || n == 0 {
			t.Errorf("audit chain: %d events, %v", n, err)
		}
		// Everyone else is still there.
		for _, e := range []string{"alice@example.com", "dave@example.com", "erin@example.com"} {
			if !p.policyHas(e) {
				t.Errorf("%s lost access too", e)
			}
		}

		// A late, out-of-order delivery (an older "activate" arriving after
		// the deactivation) changes nothing: the portal re-reads the user.
		target, _ := p.okta.UserTarget("bob@example.com")
		stale := p.okta.NewEvent("user.lifecycle.activate", target)
		stale.Published = time.Now().Add(-time.Hour)
		if err := p.okta.DeliverEvent(t.Context(), p.base+"/hooks/okta", "hook-secret", stale); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, func() bool {
			var ev grants.OktaEvent
			return db.Where("uuid = ? AND processed_at IS NOT NULL", stale.UUID).Limit(1).Find(&ev).RowsAffected == 1
		})
		db.Where("id = ?", rec.ID).Take(&rec)
		if p.policyHas("bob@example.com") || rec.EndedAt != nil {
			t.Errorf("a stale activate event brought bob back (record %+v)", rec)
		}

		// Reactivation does not restore the grant; the synced group follows Okta again.
		if err := p.okta.SetUserStatus("bob@example.com", oktafake.StatusActive); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, func() bool { return p.policyHas("bob@example.com") })
		text, _ := p.tailnet.Policy()
		if strings.Contains(jitGroup(string(text)), "bob@example.com") {
			t.Errorf("reactivation restored the grant:\n%s", text)
		}
	})
}

func TestOffboardingByPollWithoutHooks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		giveGrant(t, db, "erin@example.com")
		p := startPortal(t, db, 300*time.Millisecond)
		waitFor(t, 20*time.Second, func() bool {
			return p.policyHas("erin@example.com") && !strings.Contains(jitGroup(p.policyText()), "[]")
		})
		if err := p.okta.SetUserStatus("erin@example.com", oktafake.StatusSuspended); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, func() bool { return !p.policyHas("erin@example.com") })
		var rec grants.Offboarding
		waitFor(t, 20*time.Second, func() bool {
			db.Where("email = ?", "erin@example.com").Limit(1).Find(&rec)
			return rec.PolicyConfirmedAt != nil
		})
		// No hook: the directory poll finds it, or the System Log read of
		// the same poll does first (then the record names that event).
		if rec.OktaStatus != "SUSPENDED" || rec.GrantsRevoked != 1 {
			t.Errorf("offboarding found by the poll: %+v", rec)
		}
	})
}

// jitGroup is the text of the group:jit-prod-db line(s) of a policy.
func jitGroup(policy string) string {
	i := strings.Index(policy, `"group:jit-prod-db"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(policy[i:], "]")
	return policy[i : i+j]
}

func TestOffboardingDeletesDevicesWhenTheCatalogSaysSo(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		catalog := strings.Replace(string(demoCatalog), "{\n", "{\n  \"offboarding\": {\"tailscaleDevices\": \"delete\"},\n", 1)
		p := startPortalWithCatalog(t, db, time.Hour, []byte(catalog), 0)
		p.tailnet.AddDevice(tailnetfake.Device{Name: "bob-laptop", User: "bob@example.com"})
		p.tailnet.AddDevice(tailnetfake.Device{Name: "alice-laptop", User: "alice@example.com"})
		waitFor(t, 20*time.Second, func() bool { return p.policyHas("bob@example.com") })
		p.okta.AddEventHook(p.base+"/hooks/okta", "hook-secret")
		if err := p.okta.SetUserStatus("bob@example.com", oktafake.StatusDeprovisioned); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, func() bool {
			for _, d := range p.tailnet.Devices() {
				if d.User == "bob@example.com" {
					return false
				}
			}
			return true
		})
		if ds := p.tailnet.Devices(); len(ds) != 1 || ds[0].Name != "alice-laptop" {
			t.Errorf("devices after offboarding bob: %+v", ds)
		}
		// The deletion is audited once the tailnet answered.
		var n int64
		waitFor(t, 20*time.Second, func() bool {
			db.Model(&grants.AuditEvent{}).Where("action = ? AND target = ?", "device.delete", "device:bob-laptop").Count(&n)
			return n > 0
		})
		if n != 1 {
			t.Errorf("%d device.delete audit events for bob-laptop, want 1", n)
		}
	})
}

// A person deleted in Okta while no hook reaches the portal is offboarded
// within one poll interval, not at the hourly full poll: each poll reads
// Okta's System Log since its stored cursor.
func TestOffboardingOfADeletionBySystemLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := startPortal(t, db, 300*time.Millisecond)
		waitFor(t, 20*time.Second, func() bool { return p.policyHas("erin@example.com") })
		// The first read of the System Log sets the cursor.
		waitFor(t, 20*time.Second, func() bool {
			return db.Table("okta_log_cursor").Where("id = 1").Limit(1).Find(&map[string]any{}).RowsAffected == 1
		})
		if err := p.okta.DeleteUser("erin@example.com"); err != nil {
			t.Fatal(err)
		}
		deleted := time.Now()
		waitFor(t, 20*time.Second, func() bool { return !p.policyHas("erin@example.com") })
		t.Logf("deleted in Okta → out of the policy without a hook: %s", time.Since(deleted).Round(time.Millisecond))
		// The synced group may lose her (a reconcile of the new snapshot)
		// a moment before the cascade's record is committed.
		var rec grants.Offboarding
		waitFor(t, 20*time.Second, func() bool {
			return db.Where("email = ?", "erin@example.com").Limit(1).Find(&rec).RowsAffected == 1
		})
		if rec.OktaStatus != grants.StatusDeleted {
			t.Errorf("offboarding record %+v, want one for a deletion", rec)
		}
	})
}

// People in ordinary password trouble stay employed: locked out, with an
// expired password or in recovery, they keep their synced groups, grants,
// sessions and tokens; suspending someone offboards them.
func TestPasswordTroubleIsNoDeparture(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := startPortal(t, db, 200*time.Millisecond)
		waitFor(t, 20*time.Second, func() bool { return p.policyHas("erin@example.com") && p.policyHas("bob@example.com") })
		giveGrant(t, db, "bob@example.com")
		for _, step := range []struct{ who, op string }{
			{"bob@example.com", oktafake.OpLockOut},
			{"erin@example.com", oktafake.OpExpirePassword},
		} {
			if err := p.okta.Lifecycle(step.who, step.op); err != nil {
				t.Fatalf("%s %s: %v", step.op, step.who, err)
			}
		}
		if err := p.okta.Lifecycle("dave@example.com", oktafake.OpSuspend); err != nil {
			t.Fatal(err)
		}
		// dave's suspension is offboarded; by then the others' changes were
		// read too (one poll reads them all).
		waitFor(t, 20*time.Second, func() bool { return !p.policyHas("dave@example.com") })
		waitFor(t, 20*time.Second, func() bool {
			var u grants.DirectoryUser
			db.Where("email = ?", "bob@example.com").Take(&u)
			return u.Status == grants.StatusLockedOut
		})
		for _, e := range []string{"bob@example.com", "erin@example.com"} {
			if !p.policyHas(e) {
				t.Errorf("%s lost access for password trouble", e)
			}
		}
		var g grants.Grant
		db.Where("user_email = ?", "bob@example.com").Take(&g)
		var sessions, liveTokens, offboardings int64
		db.Table("sessions").Where("email = ?", "bob@example.com").Count(&sessions)
		db.Model(&grants.APIToken{}).Where("email = ? AND disabled_at IS NULL", "bob@example.com").Count(&liveTokens)
		db.Model(&grants.Offboarding{}).Where("email IN ?", []string{"bob@example.com", "erin@example.com"}).Count(&offboardings)
		if g.Status != grants.GrantActive || sessions != 1 || liveTokens != 1 || offboardings != 0 {
			t.Errorf("locked-out bob: grant %s, %d sessions, %d tokens, %d offboardings", g.Status, sessions, liveTokens, offboardings)
		}
	})
}
