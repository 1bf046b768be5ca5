package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
)

// countOktaEvents is how many events the portal has stored.
func countOktaEvents(t *testing.T, db *database.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Model(&grants.OktaEvent{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOktaHookDeliveryOf20000EventsIsStored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db, nil)
		// 20,000 events with only the fields the portal reads (about 4 MB).
		var b strings.Builder
		b.WriteString(`{"eventType":"com.okta.event_hook","eventId":"big","data":{"events":[`)
		for i := range 20000 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"uuid":"e-%05d","eventType":"user.account.update_profile","published":"2026-11-21T11:59:00.000Z","target":[{"id":"00u%05d","type":"User","alternateId":"u%d@example.com"}]}`, i, i, i)
		}
		b.WriteString(`]}}`)
		res, out := do(t, "POST", p.srv.URL+"/hooks/okta", "", b.String(), "Authorization", "hook-secret")
		if res.StatusCode != 200 {
			t.Fatalf("delivery of 20,000 events = %d %s", res.StatusCode, out)
		}
		if n := countOktaEvents(t, db); n != 20000 || p.hookWakes != 1 {
			t.Errorf("stored %d of 20,000 events, %d wakes", n, p.hookWakes)
		}
	})
}

func TestOktaHookDeliveryNear10MiBIsStored(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db, nil)
		okta := oktafake.New(oktafake.Options{APIToken: "t"})
		bob := okta.AddUser(oktafake.User{Login: "bob@example.com", Email: "bob@example.com"})
		target, _ := okta.UserTarget(bob)
		// Full System Log events as Okta sends them, about 1.2 KB each.
		events := make([]oktafake.Event, 8000)
		for i := range events {
			events[i] = okta.NewEvent("user.account.update_profile", target)
		}
		if err := okta.DeliverEvent(t.Context(), p.srv.URL+"/hooks/okta", "hook-secret", events...); err != nil {
			t.Fatalf("delivery of 8,000 full events: %v", err)
		}
		if n := countOktaEvents(t, db); n != 8000 {
			t.Errorf("stored %d of 8,000 events", n)
		}
	})
}

func TestOktaHookSkipsMalformedEventsAndStoresTheRest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db, nil)
		good := `{"uuid":"e-good","eventType":"user.lifecycle.suspend","published":"2026-11-21T11:59:00.000Z","target":[{"id":"00u1","type":"User"}]}`
		body := fmt.Sprintf(`{"eventType":"com.okta.event_hook","eventId":"d1","data":{"events":[%s,"not an event",{"eventType":"x"},{"uuid":"e-bad-time","eventType":"y","published":"yesterday"},{"uuid":"e-good-2","eventType":"group.user_membership.add","target":"not a list"},{"uuid":"e-good-3","eventType":"group.user_membership.add"}]}}`, good)
		res, out := do(t, "POST", p.srv.URL+"/hooks/okta", "", body, "Authorization", "hook-secret")
		if res.StatusCode != 200 {
			t.Fatalf("delivery with malformed events = %d %s", res.StatusCode, out)
		}
		var uuids []string
		db.Model(&grants.OktaEvent{}).Order("uuid").Pluck("uuid", &uuids)
		if strings.Join(uuids, ",") != "e-good,e-good-3" {
			t.Errorf("stored %v, want the two well-formed events", uuids)
		}
		_, metrics := do(t, "GET", p.srv.URL+"/metrics", "", "")
		if !strings.Contains(metrics, "portal_okta_hook_events_skipped_total 4") {
			t.Errorf("metrics lack 4 skipped events:\n%s", grep(metrics, "okta_hook"))
		}

		// A wrong secret still stores nothing, whatever the body.
		res, _ = do(t, "POST", p.srv.URL+"/hooks/okta", "", strings.ReplaceAll(body, "e-good", "e-new"), "Authorization", "nope")
		if res.StatusCode != 401 || countOktaEvents(t, db) != 2 {
			t.Errorf("unauthentic delivery = %d, %d stored", res.StatusCode, countOktaEvents(t, db))
		}
	})
}

// grep returns the lines of s that contain sub.
func grep(s, sub string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
