package web_test

import (
	"strings"
	"testing"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// The audit page shows details as labelled fields and a catalog change in
// words and as a diff; its actor filter matches part of an actor.
func TestAuditPageReadable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		err := grants.AppendAudit(t.Context(), db.DB, grants.Event{At: p.clock.Now(), Actor: "sam@example.com", Action: "grant.revoke", Target: "grant:12",
			Details: map[string]any{"grantId": 12, "reason": "left <the> team", "groups": []string{"group:a", "group:b"}, "held": true,
				"group:jit-db": map[string]any{"added": []string{"bob@example.com"}, "removed": []string{}}}})
		if err != nil {
			t.Fatal(err)
		}
		admin := p.admin(t, "alice")

		code, page := p.page(t, admin, "/admin/audit?actor=sam")
		for _, want := range []string{`<dt>Grant id</dt><dd>12</dd>`, `<dt>Reason</dt><dd>left &lt;the&gt; team</dd>`,
			`<dt>Groups</dt><dd>group:a, group:b</dd>`, `<dt>Held</dt><dd>yes</dd>`,
			`<dt>group:jit-db</dt><dd>added: bob@example.com; removed: none</dd>`} {
			if code != 200 || !strings.Contains(page, want) {
				t.Errorf("audit page (%d) lacks %s:\n%s", code, want, pageText(page))
			}
		}
		if strings.Contains(page, `catalog.replace</a>`) {
			t.Errorf("actor=sam lists the catalog import by test")
		}

		_, page = p.page(t, admin, "/admin/audit?action=catalog.replace")
		for _, want := range []string{`<li>group:eng follows Okta group &#34;Engineering&#34; (new synced group).</li>`,
			`<span class="add">&#43;  &#34;groups&#34;: {</span>`, `<summary>Catalog diff</summary>`} {
			if !strings.Contains(page, want) {
				t.Errorf("catalog change lacks %s:\n%s", want, page)
			}
		}
		if strings.Contains(page, `<dt>Before</dt>`) || strings.Contains(page, `<dt>After</dt>`) {
			t.Errorf("the catalog texts are shown as fields rather than a diff")
		}
	})
}
