package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
)

func TestAdminDashboardShowsSyncStatusAndConfirmsHolds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newOIDCPortal(t, db)
		p.catalog.Groups = map[string]string{"group:eng": "Engineering"}
		for _, u := range []struct{ id, email string }{{"u1", "alice@example.com"}, {"u2", "bob@example.com"}} {
			p.okta.AddUser(oktafake.User{ID: u.id, Login: u.email, Email: u.email})
		}
		addUser(t, db, "u1", "alice@example.com", grants.StatusActive, "Portal Admins")
		addUser(t, db, "u2", "bob@example.com", grants.StatusActive, "Engineering")
		run := time.Date(2026, 11, 21, 11, 0, 0, 0, time.UTC)
		db.Create(&grants.SyncStatus{ID: 1, LastRunAt: &run, LastError: `tailnet policy rejected: acls[0].src: group "group:x" is not defined`})
		db.Create(&grants.SyncHold{GroupName: "group:eng", OktaGroup: "Engineering", Removals: `["a@example.com","b@example.com"]`, Members: 9, HeldAt: run})

		// Not signed in: off to sign-in, and back to /admin afterwards.
		anon := browser(t)
		res, _ := get(t, anon, p.srv.URL+"/admin")
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/login?next=%2Fadmin" {
			t.Fatalf("anonymous /admin = %d → %q", res.StatusCode, loc)
		}

		bob := browser(t)
		p.signIn(t, bob, "bob@example.com", "/")
		if res, _ := get(t, bob, p.srv.URL+"/admin"); res.StatusCode != http.StatusForbidden {
			t.Errorf("non-admin /admin = %d, want 403", res.StatusCode)
		}

		alice := browser(t)
		p.signIn(t, alice, "alice@example.com", "/admin")
		res, page := get(t, alice, p.srv.URL+"/admin")
		if res.StatusCode != 200 {
			t.Fatalf("admin /admin = %d", res.StatusCode)
		}
		for _, want := range []string{"2026-11-21 11:00:00 UTC", `group &#34;group:x&#34; is not defined`, "would have removed 2 of 9 members", "Confirm removal from group:eng", "Engineering"} {
			if !strings.Contains(page, want) {
				t.Errorf("dashboard lacks %q", want)
			}
		}
		req, _ := http.NewRequest("POST", p.srv.URL+"/admin/sync/confirm", strings.NewReader(url.Values{"group": {"group:eng"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := alice.Do(req)
		if err != nil || res.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm = %v %v", res, err)
		}
		holds, _ := grants.NewStore(db).Holds(t.Context())
		if len(holds) != 1 || holds[0].ConfirmedBy != "alice@example.com" || holds[0].ConfirmedAt == nil {
			t.Errorf("hold after confirm = %+v", holds)
		}
		if p.wakes == 0 {
			t.Error("confirming did not wake the reconciler")
		}
		_, page = get(t, alice, p.srv.URL+"/admin")
		if strings.Contains(page, "Confirm removal") || !strings.Contains(page, "confirmed") {
			t.Errorf("dashboard after confirm still offers the button or lacks the flash")
		}
	})
}
