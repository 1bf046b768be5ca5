package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
)

// TestIdentityIsTheOktaUserID: a second Okta user whose profile email is
// an admin's never signs in or acts as that admin. Sign-in is refused
// while the login is shared; a token stays bound to the Okta user it was
// minted for, even when that user departs and another takes the email.
func TestIdentityIsTheOktaUserID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newOIDCPortal(t, db)
		p.catalog.Admins = []string{"Portal Admins"}
		p.okta.AddUser(oktafake.User{ID: "u1", Login: "alice@example.com", Email: "alice@example.com"})
		p.okta.AddUser(oktafake.User{ID: "u9", Login: "mallory@example.com", Email: "alice@example.com"})
		addUser(t, db, "u1", "alice@example.com", grants.StatusActive, "Portal Admins")
		alice := token(t, db, "alice@example.com", time.Hour, p.now)

		// Alone with her login, alice signs in.
		if res := p.signIn(t, browser(t), "alice@example.com", "/"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("alice signs in = %d", res.StatusCode)
		}
		// Mallory's Okta profile carries alice's email: neither signs in.
		addUser(t, db, "u9", "alice@example.com", grants.StatusActive)
		for _, login := range []string{"mallory@example.com", "alice@example.com"} {
			c := browser(t)
			if res := p.signIn(t, c, login, "/"); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s signs in while the login is shared = %d", login, res.StatusCode)
			}
			if res, body := get(t, c, p.srv.URL+"/api/v1/me"); res.StatusCode == http.StatusOK {
				t.Errorf("%s's browser is signed in: %s", login, body)
			}
		}
		res, body := do(t, "GET", p.srv.URL+"/api/v1/me", alice, "")
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "several Okta users") {
			t.Errorf("alice's token while her login is shared = %d %s", res.StatusCode, body)
		}

		// Alice departs; mallory's account, now alone with the email, is
		// made an admin-looking account. Alice's token is still alice's.
		db.Model(&grants.DirectoryUser{}).Where("id = ?", "u1").Update("status", grants.StatusSuspended)
		db.Create(&grants.DirectoryMembership{GroupID: "g-portal-admins", UserID: "u9"})
		res, body = do(t, "GET", p.srv.URL+"/api/v1/me", alice, "")
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "SUSPENDED") {
			t.Errorf("a departed admin's token after another user took the email = %d %s", res.StatusCode, body)
		}
	})
}

// TestAnonymousLoginStartsStoreNothing: a loop on /login stores no session
// row; sign-in still completes, in another browser too.
func TestAnonymousLoginStartsStoreNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newOIDCPortal(t, db)
		for range 50 {
			res, _ := get(t, browser(t), p.srv.URL+"/login?next=/")
			if res.StatusCode != http.StatusFound {
				t.Fatalf("/login = %d", res.StatusCode)
			}
		}
		var n int64
		db.Table("sessions").Count(&n)
		if n != 0 {
			t.Errorf("50 anonymous /login starts stored %d session rows", n)
		}
		p.okta.AddUser(oktafake.User{ID: "u1", Login: "alice@example.com", Email: "alice@example.com"})
		addUser(t, db, "u1", "alice@example.com", grants.StatusActive)
		if res := p.signIn(t, browser(t), "alice@example.com", "/"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in after the loop = %d", res.StatusCode)
		}
		db.Table("sessions").Count(&n)
		if n != 1 {
			t.Errorf("%d session rows after one sign-in, want 1", n)
		}
	})
}
