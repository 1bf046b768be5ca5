package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
)

// The roles every route is checked for.
var matrixRoles = []string{"anonymous", "employee", "approver", "admin", "deactivated"}

// matrixPortal has one person per role, a request of the employee and a
// grant to them.
func matrixPortal(t *testing.T, db *database.DB) (p *oidcPortal, reqID, grantID int64) {
	t.Helper()
	p = newOIDCPortal(t, db)
	p.now = time.Now().UTC()
	p.catalog.Groups = map[string]string{"group:eng": "Engineering"}
	p.catalog.Resources = map[string]grants.Resource{
		"prod-db": {Name: "prod-db", Group: "group:jit-prod-db", Eligible: []string{"Engineering"}, Approvers: []string{"Security"}, Approvals: 1, MaxDuration: 4 * time.Hour, DefaultDuration: time.Hour},
		"staging": {Name: "staging", Group: "group:jit-staging", Approvals: 1, MaxDuration: 8 * time.Hour, DefaultDuration: time.Hour},
	}
	people := []struct{ id, email, group string }{
		{"u1", "alice@example.com", "Portal Admins"},
		{"u2", "bob@example.com", "Engineering"},
		{"u3", "carol@example.com", "Security"},
		{"u4", "frank@example.com", "Engineering"},
	}
	for _, u := range people {
		p.okta.AddUser(oktafake.User{ID: u.id, Login: u.email, Email: u.email})
		addUser(t, db, u.id, u.email, grants.StatusActive, u.group)
	}
	ctx := t.Context()
	bob, _ := grants.LookupPerson(ctx, db.DB, "bob@example.com")
	alice, _ := grants.LookupPerson(ctx, db.DB, "alice@example.com")
	req, err := grants.NewStore(db).CreateRequest(ctx, p.catalog, bob, grants.RequestInput{Resource: "prod-db", Reason: "matrix"}, p.now)
	if err != nil {
		t.Fatal(err)
	}
	g, err := grants.NewStore(db).DirectGrant(ctx, p.catalog, alice, grants.DirectGrantInput{Resource: "staging", User: "bob@example.com", Reason: "matrix"}, p.now)
	if err != nil {
		t.Fatal(err)
	}
	return p, req.ID, g.ID
}

// TestAPIRoutesByRole: every JSON API route answers each role as intended.
func TestAPIRoutesByRole(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p, reqID, grantID := matrixPortal(t, db)
		tokens := map[string]string{
			"employee": token(t, db, "bob@example.com", time.Hour, p.now), "approver": token(t, db, "carol@example.com", time.Hour, p.now),
			"admin": token(t, db, "alice@example.com", time.Hour, p.now), "deactivated": token(t, db, "frank@example.com", time.Hour, p.now),
		}
		// frank leaves Okta after his token was minted.
		db.Model(&grants.DirectoryUser{}).Where("id = ?", "u4").Update("status", grants.StatusDeprovisioned)

		routes := []struct {
			method, path, body string
			want               [5]int // anonymous, employee, approver, admin, deactivated
		}{
			{"GET", "/api/v1/me", "", [5]int{401, 200, 200, 200, 403}},
			{"GET", "/api/v1/resources", "", [5]int{401, 200, 200, 200, 403}},
			{"GET", "/api/v1/requests", "", [5]int{401, 200, 200, 200, 403}},
			{"GET", fmt.Sprintf("/api/v1/requests/%d", reqID), "", [5]int{401, 200, 200, 200, 403}},
			{"GET", "/api/v1/requests/999999", "", [5]int{401, 404, 404, 404, 403}},
			{"GET", "/api/v1/grants?active=true", "", [5]int{401, 200, 200, 200, 403}},
			{"GET", "/api/v1/sync/status", "", [5]int{401, 403, 403, 200, 403}},
			{"POST", "/api/v1/sync", "", [5]int{401, 403, 403, 202, 403}},
			{"GET", "/api/v1/audit", "", [5]int{401, 403, 403, 200, 403}},
			{"GET", "/api/v1/audit/export?format=csv", "", [5]int{401, 403, 403, 200, 403}},
			{"POST", "/api/v1/grants", `{}`, [5]int{401, 403, 403, 400, 403}},
			{"POST", "/api/v1/requests", `{"resource":"nope"}`, [5]int{401, 404, 404, 404, 403}},
			{"POST", fmt.Sprintf("/api/v1/grants/%d/revoke", grantID), `{"reason":"x"}`, [5]int{401, 200, 404, 409, 403}},
			{"GET", "/api/v1/nope", "", [5]int{401, 404, 404, 404, 403}},
		}
		for _, r := range routes {
			for i, role := range matrixRoles {
				res, body := do(t, r.method, p.srv.URL+r.path, tokens[role], r.body, "Content-Type", "application/json")
				if res.StatusCode != r.want[i] {
					t.Errorf("%s %s as %s = %d %s, want %d", r.method, r.path, role, res.StatusCode, body, r.want[i])
				}
				if res.StatusCode >= 400 && !strings.Contains(body, `"error"`) {
					t.Errorf("%s %s as %s: error body %q is not {\"error\": …}", r.method, r.path, role, body)
				}
			}
		}
	})
}

// TestPagesByRole: every page answers each role as intended: anonymous
// people and people who left Okta are sent to sign-in, employees and
// approvers get 403 on admin pages.
func TestPagesByRole(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p, reqID, grantID := matrixPortal(t, db)
		clients := map[string]*http.Client{"anonymous": browser(t)}
		for role, login := range map[string]string{"employee": "bob@example.com", "approver": "carol@example.com", "admin": "alice@example.com", "deactivated": "frank@example.com"} {
			clients[role] = browser(t)
			p.signIn(t, clients[role], login, "/")
		}
		db.Model(&grants.DirectoryUser{}).Where("id = ?", "u4").Update("status", grants.StatusSuspended)

		const in = 303 // redirect to sign-in
		pages := []struct {
			path string
			want [5]int
		}{
			{"/", [5]int{200, 200, 200, 200, 200}}, // the anonymous landing page
			{"/resources", [5]int{in, 200, 200, 200, in}},
			{"/requests", [5]int{in, 200, 200, 200, in}},
			{fmt.Sprintf("/requests/%d", reqID), [5]int{in, 200, 200, 200, in}},
			{fmt.Sprintf("/grants/%d", grantID), [5]int{in, 200, 404, 200, in}},
			{"/approvals", [5]int{in, 200, 200, 200, in}},
			{"/tokens", [5]int{in, 200, 200, 200, in}},
			{"/admin", [5]int{in, 403, 403, 200, in}},
			{"/admin/access", [5]int{in, 403, 403, 200, in}},
			{"/admin/requests", [5]int{in, 403, 403, 200, in}},
			{"/admin/offboarding", [5]int{in, 403, 403, 200, in}},
			{"/admin/audit", [5]int{in, 403, 403, 200, in}},
			{"/admin/tokens", [5]int{in, 403, 403, 200, in}},
		}
		for _, pg := range pages {
			for i, role := range matrixRoles {
				res, _ := get(t, clients[role], p.srv.URL+pg.path)
				if res.StatusCode != pg.want[i] {
					t.Errorf("GET %s as %s = %d, want %d", pg.path, role, res.StatusCode, pg.want[i])
				}
				if res.StatusCode == in && !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
					t.Errorf("GET %s as %s redirects to %q, not to sign-in", pg.path, role, res.Header.Get("Location"))
				}
			}
		}
		// Cross-site form posts are refused whoever sends them.
		for _, role := range matrixRoles {
			req, _ := http.NewRequest("POST", p.srv.URL+"/admin/sync", nil)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			res, err := clients[role].Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("cross-site POST /admin/sync as %s = %d, want 403", role, res.StatusCode)
			}
		}
	})
}
