package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/sync/tailnetfake"
)

const testWebhookSecret = "tskey-webhook-test"

// startPortalWithWebhook runs the portal on fakes with the simulated
// tailnet's webhook pointed at /hooks/tailscale (deliveries only on
// FlushWebhooks), every tailnet answer delayed by latency, no Okta poll and
// no ETag watch: only the webhook makes the portal re-read the policy.
func startPortalWithWebhook(t testing.TB, db *database.DB, latency time.Duration) *runningPortal {
	t.Helper()
	okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "okta-token", RateLimitPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeOkta)
	seedDemoOkta(okta)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	tailnet := tailnetfake.New(tailnetfake.Options{Tailnet: "example.com", APIKeys: []string{"tskey"}, Policy: demoPolicy,
		Webhook: &tailnetfake.Webhook{URL: base + "/hooks/tailscale", Secret: testWebhookSecret, BatchWindow: time.Hour}})
	tailnetSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency) // simulated network latency, not synchronisation
		tailnet.ServeHTTP(w, r)
	}))
	t.Cleanup(tailnetSrv.Close)
	catalog := filepath.Join(t.TempDir(), "catalog.hujson")
	os.WriteFile(catalog, demoCatalog, 0o600)
	cfg := &config{
		Addr: ln.Addr().String(), BaseURL: base, DatabaseURL: db.URL, CatalogPath: catalog, SyncInterval: time.Hour, RequestTTL: 24 * time.Hour,
		OktaOrgURL: oktaURL, OktaAPIToken: "okta-token", OktaHookSecret: "hook-secret",
		OIDCIssuer: oktaURL, OIDCClientID: "c", OIDCClientSecret: "s",
		TailscaleAPIURL: tailnetSrv.URL, TailscaleTailnet: "-", TailscaleAPIKey: "tskey",
		TailscaleWebhookSecret: testWebhookSecret, PolicyWatch: -1,
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

// pushFromGit replaces the policy as a GitOps push of the repository's
// copy would: the managed groups as git has them (empty), so granted people
// drop out until the portal restores them.
func (p *runningPortal) pushFromGit(t testing.TB) {
	t.Helper()
	if err := p.tailnet.ReplacePolicy(demoPolicy, "gitops-bot@example.com"); err != nil {
		t.Fatal(err)
	}
}

// waitComplete waits until a reconcile based on a completed read of Okta
// has succeeded: from then on the portal writes only for new changes.
func (p *runningPortal) waitComplete(t testing.TB) {
	t.Helper()
	waitFor(t, 20*time.Second, func() bool {
		st, err := grants.NewStore(p.db).SyncStatus(context.Background())
		return err == nil && st.LastCompleteAt != nil
	})
}

// flushWebhooksAndSettle delivers the queued tailnet webhooks and, when
// they announce a policy change, waits for the reconcile pass it causes (a
// pass started once the delivery began) to finish.
func (p *runningPortal) flushWebhooksAndSettle(t testing.TB) {
	t.Helper()
	if p.tailnet.PendingWebhookEventsOf("policyUpdate") == 0 {
		p.tailnet.FlushWebhooks()
		return
	}
	delivering := time.Now()
	if err := p.tailnet.FlushWebhooks(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool {
		st, err := grants.NewStore(p.db).SyncStatus(context.Background())
		return err == nil && st.LastRunAt != nil && !st.LastRunAt.Before(delivering)
	})
}

// driftEvents returns the sync.drift audit events of a group.
func driftEvents(t testing.TB, db *database.DB, group string) []map[string]any {
	t.Helper()
	var rows []grants.AuditEvent
	if err := db.Where("action = ? AND target = ?", "sync.drift", group).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range rows {
		var d map[string]any
		json.Unmarshal([]byte(r.Details), &d)
		out = append(out, d)
	}
	return out
}

func TestPushFromGitIsRepairedByTheWebhook(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		giveGrant(t, db, "bob@example.com")
		p := startPortalWithWebhook(t, db, 0)
		waitFor(t, 20*time.Second, func() bool { return p.policyHas("bob@example.com") })
		// The first poll of Okta brings the synced groups in a write of its
		// own: wait for it, so that the push below is the only change.
		p.waitComplete(t)
		// The portal's own writes were announced too; deliver them first,
		// and let the pass they cause finish before the push.
		p.flushWebhooksAndSettle(t)

		p.pushFromGit(t)
		if p.policyHas("bob@example.com") {
			t.Fatal("the push did not remove bob")
		}
		if err := p.tailnet.FlushWebhooks(); err != nil {
			t.Fatalf("webhook delivery: %v", err)
		}
		waitFor(t, 10*time.Second, func() bool { return p.policyHas("bob@example.com") })
		drift := driftEvents(t, db, "group:jit-prod-db")
		if len(drift) != 1 || drift[0]["changedBy"] != "gitops-bot@example.com" || !slices.Equal(anyStrings(drift[0]["removed"]), []string{"bob@example.com"}) {
			t.Errorf("drift audit %v, want one naming gitops-bot@example.com and bob removed", drift)
		}

		// A forged delivery changes nothing.
		if err := p.tailnet.ReplacePolicy(demoPolicy, "someone@example.com"); err != nil {
			t.Fatal(err)
		}
		body := `[{"type":"policyUpdate","data":{"actor":"x"}}]`
		req, _ := http.NewRequest("POST", p.base+"/hooks/tailscale", strings.NewReader(body))
		req.Header.Set("Tailscale-Webhook-Signature", tailnetfake.SignWebhook("wrong-secret", time.Now(), []byte(body)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Errorf("forged webhook = %d", res.StatusCode)
		}
	})
}

// anyStrings converts a decoded JSON array of strings.
func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// BenchmarkWebhookToRestoringWrite: a push from git drops a granted person;
// the time from the webhook's delivery to the write that restores them,
// against a tailnet answering after 20 ms.
func BenchmarkWebhookToRestoringWrite(b *testing.B) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	db := benchDB(b)
	giveGrant(b, db, "bob@example.com")
	p := startPortalWithWebhook(b, db, 20*time.Millisecond)
	waitFor(b, 20*time.Second, func() bool { return p.policyHas("bob@example.com") })
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		p.tailnet.FlushWebhooks()
		// A quiet period longer than the reconciler's MinInterval (100ms),
		// as between real pushes: the pass the flush woke has ended.
		time.Sleep(200 * time.Millisecond)
		p.pushFromGit(b)
		writes := p.tailnet.Writes()
		b.StartTimer()
		start := time.Now()
		if err := p.tailnet.FlushWebhooks(); err != nil {
			b.Fatal(err)
		}
		for !p.policyHas("bob@example.com") {
			time.Sleep(time.Millisecond) // polling the fake's state, bounded below
			if time.Since(start) > 30*time.Second {
				b.Fatal("not restored after 30s")
			}
		}
		lat = append(lat, time.Since(start))
		if w := p.tailnet.Writes() - writes; w != 1 {
			b.Fatalf("%d writes to restore, want 1", w)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
