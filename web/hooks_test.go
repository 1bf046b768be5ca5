package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/web"
)

func TestOktaEventHook(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db, nil)
		okta := oktafake.New(oktafake.Options{APIToken: "t"})
		bob := okta.AddUser(oktafake.User{Login: "bob@example.com", Email: "bob@example.com"})
		hook := p.srv.URL + "/hooks/okta"
		ctx := context.Background()

		// The one-time verification.
		if err := okta.VerifyHook(ctx, hook); err != nil {
			t.Fatalf("verification: %v", err)
		}

		target, _ := okta.UserTarget(bob)
		ev := okta.NewEvent("user.lifecycle.deactivate", target)
		stored := func() int64 {
			var n int64
			db.Model(&grants.OktaEvent{}).Count(&n)
			return n
		}
		for _, secret := range []string{"", "wrong", "Hook-Secret", "hook-secret2"} {
			if err := okta.DeliverEvent(ctx, hook, secret, ev); err == nil {
				t.Errorf("delivery with Authorization %q accepted", secret)
			}
		}
		if n := stored(); n != 0 || p.hookWakes != 0 {
			t.Fatalf("refused deliveries stored %d events", n)
		}

		// Delivered twice (Okta is at-least-once): stored once.
		for range 2 {
			if err := okta.DeliverEvent(ctx, hook, "hook-secret", ev); err != nil {
				t.Fatalf("delivery: %v", err)
			}
		}
		pending, err := grants.PendingOktaEvents(ctx, db.DB, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != 1 || pending[0].UUID != ev.UUID || pending[0].EventType != "user.lifecycle.deactivate" || p.hookWakes != 1 {
			t.Fatalf("stored %+v, wakes %d", pending, p.hookWakes)
		}
		if ts := pending[0].TargetList(); len(ts) != 1 || ts[0].ID != bob || ts[0].Type != "User" {
			t.Errorf("targets %+v", ts)
		}

		// A malformed event is skipped, not refused (Okta never retries a
		// 4xx); a delivery over 10 MiB is refused.
		res, body := do(t, "POST", hook, "", `{"data":{"events":[{"eventType":"x"}]}}`, "Authorization", "hook-secret")
		if res.StatusCode != 200 || stored() != 1 {
			t.Errorf("event without uuid = %d %s, %d stored", res.StatusCode, body, stored())
		}
		res, _ = do(t, "POST", hook, "", `{"data":"`+strings.Repeat("x", 11<<20)+`"}`, "Authorization", "hook-secret")
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized delivery = %d", res.StatusCode)
		}
	})
}

func TestOktaEventHookRefusedWithoutSecret(t *testing.T) {
	db := dbtest.SQLite(t)
	srv := servePortal(t, web.Options{DB: db})
	res, body := do(t, "POST", srv.URL+"/hooks/okta", "", `{"data":{"events":[]}}`, "Authorization", "")
	if res.StatusCode != 401 || !strings.Contains(body, "OKTA_HOOK_SECRET") {
		t.Errorf("hook without a configured secret = %d %s", res.StatusCode, body)
	}
}
