package web_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/tailnetfake"
	"github.com/accessportal/portal/web"
)

// policyUpdates records the actors OnPolicyUpdate was called with.
type policyUpdates struct {
	mu     sync.Mutex
	actors []string
}

func (u *policyUpdates) add(actor string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.actors = append(u.actors, actor)
}

func (u *policyUpdates) list() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.actors)
}

const tsWebhookSecret = "tskey-webhook-test"

func TestTailscaleWebhook(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		var updates policyUpdates
		srv := servePortal(t, web.Options{
			DB: db, Clock: func() time.Time { return now },
			TailscaleWebhookSecret: tsWebhookSecret, OnPolicyUpdate: updates.add,
		})
		hook := srv.URL + "/hooks/tailscale"
		// The simulated tailnet delivers its own signed webhooks to the portal.
		tn := tailnetfake.New(tailnetfake.Options{
			Tailnet: "example.com", APIKeys: []string{"tskey"}, Clock: func() time.Time { return now },
			Webhook: &tailnetfake.Webhook{URL: hook, Secret: tsWebhookSecret, BatchWindow: time.Hour},
		})
		if err := tn.ReplacePolicy([]byte(`{"groups": {"group:prod-db": ["eve@example.com"]}}`), "ci@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := tn.FlushWebhooks(); err != nil {
			t.Fatalf("authentic delivery refused: %v", err)
		}
		if got := updates.list(); len(got) != 1 || got[0] != "ci@example.com" {
			t.Fatalf("policy updates %v, want one by ci@example.com", got)
		}

		body := []byte(`[{"timestamp":"2026-11-21T12:00:00Z","version":1,"type":"policyUpdate","tailnet":"example.com","message":"Tailnet policy file updated","data":{"actor":"mallory@example.com"}}]`)
		refused := []struct {
			name, signature string
		}{
			{"no signature", ""},
			{"wrong secret", tailnetfake.SignWebhook("tskey-webhook-other", now, body)},
			{"tampered body", tailnetfake.SignWebhook(tsWebhookSecret, now, bytes.Replace(body, []byte("mallory"), []byte("alice"), 1))},
			{"older than 5 minutes", tailnetfake.SignWebhook(tsWebhookSecret, now.Add(-5*time.Minute-time.Second), body)},
			{"malformed header", "v1=abc"},
		}
		for _, c := range refused {
			res, out := do(t, "POST", hook, "", string(body), "Tailscale-Webhook-Signature", c.signature, "Content-Type", "application/json")
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: %d %s, want 401", c.name, res.StatusCode, out)
			}
		}
		if got := updates.list(); len(got) != 1 {
			t.Errorf("refused deliveries reached the reconciler: %v", got)
		}

		// Fresh within 5 minutes: accepted; other event types only acknowledged.
		res, out := do(t, "POST", hook, "", string(body), "Tailscale-Webhook-Signature", tailnetfake.SignWebhook(tsWebhookSecret, now.Add(-4*time.Minute), body))
		if res.StatusCode != 200 {
			t.Fatalf("fresh delivery = %d %s", res.StatusCode, out)
		}
		other := []byte(`[{"type":"nodeCreated","data":{"actor":"x"}}]`)
		res, _ = do(t, "POST", hook, "", string(other), "Tailscale-Webhook-Signature", tailnetfake.SignWebhook(tsWebhookSecret, now, other))
		if got := updates.list(); res.StatusCode != 200 || strings.Join(got, ",") != "ci@example.com,mallory@example.com" {
			t.Errorf("after a fresh policyUpdate and a nodeCreated: %d, updates %v", res.StatusCode, got)
		}
		var audited int64
		db.Model(&grants.AuditEvent{}).Count(&audited)
		if audited != 0 {
			t.Errorf("the webhook itself wrote %d audit events; drift is audited by the reconciler when it re-reads", audited)
		}
	})
}

func TestTailscaleWebhookRefusedWithoutSecret(t *testing.T) {
	db := dbtest.SQLite(t)
	called := false
	srv := servePortal(t, web.Options{DB: db, OnPolicyUpdate: func(string) { called = true }})
	body := `[{"type":"policyUpdate"}]`
	res, out := do(t, "POST", srv.URL+"/hooks/tailscale", "", body, "Tailscale-Webhook-Signature", tailnetfake.SignWebhook("", time.Now(), []byte(body)))
	if res.StatusCode != 401 || !strings.Contains(out, "TAILSCALE_WEBHOOK_SECRET") || called {
		t.Errorf("webhook without a configured secret = %d %s (called %v)", res.StatusCode, out, called)
	}
}
