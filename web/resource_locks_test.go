package web_test

import (
	"html"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

func TestResourcePageShowsBothLocks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		withPosture := strings.Replace(catalogSeed, `"requireReason": true,`, `"requireReason": true, "devicePosture": "custom:jit-prod-db",`, 1)
		if _, err := p.store.Replace(t.Context(), "posture", []byte(withPosture), "", "test", p.clock.Now()); err != nil {
			t.Fatal(err)
		}
		p.tailnet.SetPolicy([]byte(posturePolicy))
		alice := p.admin(t, "alice")
		_, page := p.page(t, alice, "/admin/catalog/resources/prod-db")
		page = html.UnescapeString(page)
		for _, want := range []string{
			"Locks in the tailnet", "First lock: a grant adds its holder to <code>group:jit-prod-db</code>",
			"Second lock: each of the holder's untagged devices carries <code>custom:jit-prod-db</code>",
			"(postures <code>posture:jit-prod-db</code>)",
			`"posture:jit-prod-db": ["custom:jit-prod-db == true"],</span>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("resource page lacks %q", want)
			}
		}
		if strings.Contains(page, "Warning: no <code>srcPosture</code>") {
			t.Error("warning shown although srcPosture requires the posture")
		}

		p.tailnet.SetPolicy([]byte(`{"groups": {"group:jit-prod-db": []}, "grants": [{"src": ["group:jit-prod-db"], "dst": ["*"], "ip": ["*"]}]}`))
		_, page = p.page(t, alice, "/admin/catalog/resources/prod-db")
		if !strings.Contains(html.UnescapeString(page), "Warning: no <code>srcPosture</code> in the policy requires a posture that names <code>custom:jit-prod-db</code> (no entry of <code>postures</code> names it)") {
			t.Error("no warning for an attribute the policy does not use")
		}
	})
}
