package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// Every admin page shows the admin tab bar once, with its own section
// current; the overview leads with the counts an admin acts on; revoking
// and retiring ask first.
func TestAdminTabsOverviewAndConfirmations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		phoneFixture(t, p, db)
		admin := p.admin(t, "alice")
		current := regexp.MustCompile(`<nav class="admin-nav" aria-label="Admin sections">.*?aria-current="page">([^<]+)</a>`)
		for path, want := range map[string]string{
			"/admin": "Overview", "/admin/access": "Who has access", "/admin/requests": "Pending requests",
			"/admin/offboarding": "Offboarding", "/admin/audit": "Audit log", "/admin/tokens": "API tokens",
			"/admin/catalog": "Catalog", "/admin/catalog/resources/prod-db": "Catalog", "/admin/catalog/groups/group:eng/edit": "Catalog",
		} {
			code, page := p.page(t, admin, path)
			m := current.FindStringSubmatch(page)
			if code != 200 || m == nil || m[1] != want || strings.Count(page, `class="admin-nav"`) != 1 {
				t.Errorf("%s (%d): current tab %v, want %q; %d tab bars", path, code, m, want, strings.Count(page, `class="admin-nav"`))
			}
		}
		// Not on the pages of people who are not in an admin section.
		if _, page := p.page(t, admin, "/tokens"); strings.Contains(page, `class="admin-nav"`) {
			t.Errorf("/tokens shows the admin tab bar")
		}

		_, page := p.page(t, admin, "/admin")
		text := pageText(page)
		for _, want := range []string{"1 pending request", "1 active grant", "0 held groups", "0 open offboardings", "last sync", "notifications"} {
			if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
				t.Errorf("overview lacks %q:\n%s", want, text)
			}
		}
		if strings.Index(page, `class="overview"`) > strings.Index(page, `id="sync-status"`) {
			t.Errorf("the overview is not first on /admin")
		}

		_, page = p.page(t, admin, "/admin/access")
		if !regexp.MustCompile(`(?s)<details class="confirm"><summary class="button danger">Revoke…</summary>.*?<form class="inline" method="post" action="/admin/grants/\d+/revoke">`).MatchString(page) {
			t.Errorf("revoking on /admin/access does not ask first")
		}
		_, page = p.page(t, admin, "/admin/catalog/resources/prod-db")
		if !regexp.MustCompile(`(?s)<details class="confirm"><summary class="button danger" id="retire-ask">Retire…</summary>.*?id="retire"`).MatchString(page) ||
			!regexp.MustCompile(`(?s)<details class="confirm"><summary class="button danger">Revoke…</summary>.*?action="/admin/catalog/grants/\d+/revoke"`).MatchString(page) {
			t.Errorf("retiring or revoking on the resource page does not ask first")
		}
	})
}
