package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestCatalogChangeNeverApprovesItsAuthor: an admin cannot, through the
// API or the dashboard, make a change under which their own requests would
// be approved at once (their Okta group in autoApprove; an onCall schedule
// they are on call in is TestOnCallCatalogSchedulesChecked's); another admin
// can. A catalog with no admins is refused.
func TestCatalogChangeNeverApprovesItsAuthor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		url := p.srv.URL + "/api/v1/catalog"
		put := func(who, body string) (int, string) {
			res, text := do(t, "PUT", url, p.tokens[who], body, "Content-Type", "application/json", "If-Match", "*")
			return res.StatusCode, text
		}
		selfApprove := strings.Replace(catalogSeed, `"approvers": ["Portal Admins"],`, `"approvers": ["Portal Admins"], "autoApprove": ["Engineering"],`, 1)
		newResource := strings.Replace(catalogSeed, `"resources": {`, `"resources": {"mine": {"group": "group:jit-mine", "autoApprove": ["Portal Admins"]},`, 1)

		for name, body := range map[string]string{"autoApprove": selfApprove, "a new resource": newResource} {
			code, text := put("alice", body)
			if code != http.StatusConflict || !strings.Contains(apiError(t, text), "another admin must make this change") {
				t.Errorf("alice adds %s for herself = %d %s", name, code, text)
			}
		}
		if r := p.current(t).Resources["prod-db"]; len(r.AutoApprove) != 0 || r.OnCall != nil {
			t.Errorf("a refused change was saved: %+v", r)
		}
		// The dashboard refuses it too.
		alice := p.admin(t, "alice")
		_, page := p.page(t, alice, "/admin/catalog/resources/prod-db/edit")
		form := formValues(t, page, "resource-form")
		form.Set("autoApprove", "Engineering")
		if code, _, page := p.post(t, alice, "/admin/catalog/save", form); code != http.StatusConflict || !strings.Contains(pageText(page), "another admin must make this change") {
			t.Errorf("alice's dashboard save = %d %s", code, pageText(page))
		}
		// adam is not in Engineering, so it approves nothing of his.
		if code, text := put("adam", selfApprove); code != http.StatusOK {
			t.Fatalf("adam adds Engineering to autoApprove = %d %s", code, text)
		}
		// Where she already was auto-approved, alice may edit the rest.
		edited := strings.Replace(selfApprove, `"maxDuration": "4h"`, `"maxDuration": "2h"`, 1)
		if code, text := put("alice", edited); code != http.StatusOK {
			t.Errorf("alice edits a resource that already auto-approved her = %d %s", code, text)
		}
		for _, body := range []string{`{}`, `{"admins": []}`} {
			if code, text := put("adam", body); code != http.StatusBadRequest || !strings.Contains(apiError(t, text), "at least one Okta group in admins") {
				t.Errorf("PUT %s = %d %s", body, code, text)
			}
		}
	})
}
