package web_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/policyfile"
)

func TestCatalogFileModeRefusesEdits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, true)
		alice := p.admin(t, "alice")

		code, page := p.page(t, alice, "/admin/catalog")
		text := pageText(page)
		if code != 200 || !strings.Contains(text, "Managed in FILE "+p.file) || !strings.Contains(text, "group:eng") ||
			!strings.Contains(text, "Production database") || !strings.Contains(text, "prod-db") {
			t.Fatalf("overview = %d %s", code, text)
		}
		for _, link := range []string{"/admin/catalog/new-group", "/admin/catalog/new-resource", "/remove", "/edit", `action="/admin/catalog/save"`} {
			if strings.Contains(page, link) {
				t.Errorf("file mode offers %s", link)
			}
		}
		for _, path := range []string{"/admin/catalog/new-group", "/admin/catalog/groups/group:eng/edit", "/admin/catalog/groups/group:eng/remove",
			"/admin/catalog/new-resource", "/admin/catalog/resources/prod-db/edit"} {
			if code, page := p.page(t, alice, path); code != http.StatusConflict || !strings.Contains(pageText(page), "managed in FILE "+p.file) {
				t.Errorf("GET %s in file mode = %d %s", path, code, pageText(page))
			}
		}
		// A form posted anyway (say, from before a restart in file mode) is refused.
		edit := url.Values{"kind": {"group"}, "group": {"group:sre"}, "okta": {"SRE"}, "etag": {p.store.ETag()}}
		for _, path := range []string{"/admin/catalog/preview", "/admin/catalog/save"} {
			if code, _, page := p.post(t, alice, path, edit); code != http.StatusConflict || !strings.Contains(pageText(page), "Nothing was changed") {
				t.Errorf("POST %s in file mode = %d %s", path, code, pageText(page))
			}
		}
		if c := p.current(t); len(c.Groups) != 1 {
			t.Errorf("file mode catalog changed: %v", c.Groups)
		}
		// The membership pages and grants still work: grants are not the catalog.
		if code, page := p.page(t, alice, "/admin/catalog/groups/group:eng"); code != 200 || !strings.Contains(pageText(page), "bob@example.com") {
			t.Errorf("members page in file mode = %d %s", code, pageText(page))
		}
	})
}

func TestCatalogMappingPreviewAndSave(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		p.waitPolicy(t, "group:eng", []string{"alice@example.com", "bob@example.com"})
		alice := p.admin(t, "alice")
		bob := p.admin(t, "bob") // signed in, not an admin
		if code, _ := p.page(t, bob, "/admin/catalog"); code != http.StatusForbidden {
			t.Errorf("the catalog page for a non-admin = %d", code)
		}
		if code, _, _ := p.post(t, bob, "/admin/catalog/save", url.Values{"kind": {"group"}, "group": {"group:x"}, "okta": {"SRE"}}); code != http.StatusForbidden {
			t.Errorf("a save by a non-admin = %d", code)
		}

		// Choose the Okta group by searching the directory on the server.
		code, page := p.page(t, alice, "/admin/catalog/new-group?kind=group&group=group:sre&q=sr")
		if code != 200 || !strings.Contains(page, `value="SRE"`) || strings.Contains(page, `value="Engineering"`) || !strings.Contains(page, `value="group:sre"`) {
			t.Fatalf("searching for sr = %d %s", code, page)
		}
		form := formValues(t, page, "group-form")
		form.Set("okta", "SRE")

		// A bad group name gets the file's message, and the input stays.
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("group", "sre")
		code, _, page = p.post(t, alice, "/admin/catalog/preview", bad)
		if code != 400 || !strings.Contains(pageText(page), `groups.sre: Tailscale group "sre" must start with "group:"`) || !strings.Contains(page, `value="sre"`) {
			t.Errorf("preview of a bad name = %d %s", code, pageText(page))
		}

		// The preview says what it cannot know.
		if err := db.Create(&grants.DirectoryGroup{ID: "g-contractors", Name: "Contractors", SyncedAt: p.clock.Now()}).Error; err != nil {
			t.Fatal(err)
		}
		notes := []struct{ okta, want string }{
			{"Contractors", `The portal has not read the members of "Contractors" yet`},
			{"SRE", `The members of "SRE" shown here are from when the portal last read them`},
		}
		for _, n := range notes {
			bad.Set("group", "group:x")
			bad.Set("okta", n.okta)
			if code, _, page := p.post(t, alice, "/admin/catalog/preview", bad); code != 200 || !strings.Contains(pageText(page), n.want) {
				t.Errorf("preview of group:x ← %s = %d %s", n.okta, code, pageText(page))
			}
		}
		// A name the directory does not know is refused next to its field:
		// a typo would sync nobody.
		bad.Set("okta", "Enginering")
		code, _, page = p.post(t, alice, "/admin/catalog/preview", bad)
		if want := `Okta group "Enginering" is not in the Okta directory; check its spelling`; code != 400 || !strings.Contains(pageText(page), want) {
			t.Errorf("preview of group:x ← Enginering = %d, want 400 with %q: %s", code, want, pageText(page))
		}

		// The preview shows the exact diff `portal sync --dry-run` would print.
		before, _ := p.tailnet.Policy()
		code, _, page = p.post(t, alice, "/admin/catalog/preview", form)
		if code != 200 {
			t.Fatalf("preview = %d %s", code, pageText(page))
		}
		cur := p.current(t)
		proposed := &grants.Catalog{Admins: cur.Admins, Groups: maps.Clone(cur.Groups), Resources: cur.Resources}
		proposed.Groups["group:sre"] = "SRE"
		plan, err := p.rec.PlanFor(t.Context(), proposed)
		if err != nil {
			t.Fatal(err)
		}
		diff := plan.Diff()
		if !strings.Contains(diff, "carol@example.com") || strings.Contains(diff, "dave@example.com") {
			t.Fatalf("the dry-run diff is unexpected:\n%s", diff)
		}
		if shown := pageText(between(page, `id="policy-diff">`, "</pre>")); strings.TrimSpace(shown) != strings.TrimSpace(diff) {
			t.Errorf("preview diff:\n%s\nwant the dry-run diff:\n%s", shown, diff)
		}
		text := pageText(page)
		if !strings.Contains(text, `group:sre follows Okta group "SRE" (new synced group).`) || !strings.Contains(text, "+bob@example.com") || !strings.Contains(text, "+carol@example.com") {
			t.Errorf("preview summary = %s", text)
		}
		if after, _ := p.tailnet.Policy(); string(after) != string(before) {
			t.Error("the preview changed the policy")
		}
		if _, ok := p.current(t).Groups["group:sre"]; ok {
			t.Error("the preview saved the mapping")
		}

		// Saving audits it and the reconciler applies it.
		code, loc, _ := p.post(t, alice, "/admin/catalog/save", formValues(t, page, "save-form"))
		if code != http.StatusSeeOther || loc != "/admin/catalog/groups/group:sre" {
			t.Fatalf("save = %d → %q", code, loc)
		}
		if got := p.current(t).Groups["group:sre"]; got != "SRE" {
			t.Fatalf("saved mapping = %q", got)
		}
		p.waitPolicy(t, "group:sre", []string{"bob@example.com", "carol@example.com"})
		var ev grants.AuditEvent
		db.Where("action = ?", "catalog.replace").Order("id DESC").Take(&ev)
		if ev.Actor != "alice@example.com" || !strings.Contains(ev.Details, `\"group:sre\": \"SRE\"`) || !strings.Contains(ev.Details, `"before"`) {
			t.Errorf("audit = %+v", ev)
		}
		_, page = p.page(t, alice, loc)
		if text := pageText(page); !strings.Contains(text, "Saved. group:sre follows Okta group") || !strings.Contains(text, "carol@example.com") {
			t.Errorf("after saving: %s", text)
		}

		// Change which Okta group it follows.
		_, page = p.page(t, alice, "/admin/catalog/groups/group:sre/edit")
		form = formValues(t, page, "group-form")
		if form.Get("okta") != "SRE" || form.Get("original") != "group:sre" {
			t.Fatalf("edit form = %v", form)
		}
		form.Set("okta", "Finance")
		code, loc, page = p.post(t, alice, "/admin/catalog/save", form)
		if code != http.StatusSeeOther {
			t.Fatalf("changing the Okta group = %d %s", code, pageText(page))
		}
		p.waitPolicy(t, "group:sre", []string{"erin@example.com"})
	})
}

func TestCatalogRemovingAMapping(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		alice := p.admin(t, "alice")
		addMapping := func(group, okta string) {
			t.Helper()
			_, page := p.page(t, alice, "/admin/catalog/new-group")
			form := formValues(t, page, "group-form")
			form.Set("group", group)
			form.Set("okta", okta)
			if code, _, page := p.post(t, alice, "/admin/catalog/save", form); code != http.StatusSeeOther {
				t.Fatalf("adding %s = %d %s", group, code, pageText(page))
			}
		}
		addMapping("group:sre", "SRE")
		p.waitPolicy(t, "group:eng", []string{"alice@example.com", "bob@example.com"})
		p.waitPolicy(t, "group:sre", []string{"bob@example.com", "carol@example.com"})

		// Leave it: the catalog forgets it, the policy keeps its members.
		_, page := p.page(t, alice, "/admin/catalog/groups/group:sre/remove")
		form := formValues(t, page, "remove-form")
		code, _, page := p.post(t, alice, "/admin/catalog/preview", form)
		if code != 400 || !strings.Contains(pageText(page), "choose whether to empty group:sre") {
			t.Errorf("removal without a choice = %d %s", code, pageText(page))
		}
		form.Set("removal", "leave")
		code, _, page = p.post(t, alice, "/admin/catalog/preview", form)
		if text := pageText(page); code != 200 || !strings.Contains(text, "The tailnet policy file does not change.") || !strings.Contains(text, "its current members stay") {
			t.Errorf("preview of leaving = %d %s", code, text)
		}
		if code, _, _ := p.post(t, alice, "/admin/catalog/save", formValues(t, page, "save-form")); code != http.StatusSeeOther {
			t.Fatalf("save = %d", code)
		}
		if _, ok := p.current(t).Groups["group:sre"]; ok {
			t.Fatal("group:sre is still synced")
		}
		// No longer managed: Okta changes no longer reach it.
		db.Where("user_id = ?", "u3").Delete(&grants.DirectoryMembership{}) // carol leaves SRE
		<-wakeAndPass(p)
		<-wakeAndPass(p)
		if got := p.policyGroups(t)["group:sre"]; !slices.Equal(policyfile.NormalizeMembers(got), []string{"bob@example.com", "carol@example.com"}) {
			t.Errorf("an unmanaged group changed: %q", got)
		}

		// Empty it: the group is kept managed and empty.
		_, page = p.page(t, alice, "/admin/catalog/groups/group:eng/remove")
		form = formValues(t, page, "remove-form")
		form.Set("removal", "empty")
		code, _, page = p.post(t, alice, "/admin/catalog/preview", form)
		if text := pageText(page); code != 200 || !strings.Contains(text, "−alice@example.com") || !strings.Contains(text, "−bob@example.com") || !strings.Contains(text, "empties it and keeps it empty") {
			t.Errorf("preview of emptying = %d %s", code, text)
		}
		if code, _, _ := p.post(t, alice, "/admin/catalog/save", formValues(t, page, "save-form")); code != http.StatusSeeOther {
			t.Fatalf("save = %d", code)
		}
		if c := p.current(t); c.Groups["group:eng"] != "" || !slices.Equal(c.KeepEmpty, []string{"group:eng"}) {
			t.Fatalf("after emptying: groups %v keepEmpty %v", c.Groups, c.KeepEmpty)
		}
		p.waitPolicy(t, "group:eng", []string{})
		// A hand edit is drift: the portal empties it again.
		text, _ := p.tailnet.Policy()
		p.tailnet.SetPolicy([]byte(strings.Replace(string(text), `"group:eng": []`, `"group:eng": ["mallory@example.com"]`, 1)))
		p.waitPolicy(t, "group:eng", []string{})

		_, page = p.page(t, alice, "/admin/catalog")
		if !strings.Contains(pageText(page), "Kept empty") {
			t.Errorf("overview lacks the kept-empty group: %s", pageText(page))
		}
		form = formValues(t, page, "stop-group:eng")
		if code, _, _ := p.post(t, alice, "/admin/catalog/save", form); code != http.StatusSeeOther {
			t.Fatalf("stop managing = %d", code)
		}
		if c := p.current(t); len(c.KeepEmpty) != 0 || len(c.ManagedGroups()) != 1 {
			t.Errorf("after stop managing: %v %v", c.KeepEmpty, c.ManagedGroups())
		}
	})
}

func TestCatalogResourceEditsChangeWhatRequestsMay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		alice := p.admin(t, "alice")
		request := func(who, body string) (int, string) {
			t.Helper()
			res, b := do(t, "POST", p.srv.URL+"/api/v1/requests", p.tokens[who], body, "Content-Type", "application/json")
			return res.StatusCode, b
		}
		if code, body := request("carol", `{"resource":"prod-db","duration":"1h","reason":"deploy"}`); code != 403 {
			t.Fatalf("carol (SRE) before the edit = %d %s", code, body)
		}

		_, page := p.page(t, alice, "/admin/catalog/resources/prod-db/edit")
		form := formValues(t, page, "resource-form")
		if form.Get("maxDuration") != "4h" || form.Get("eligible") != "Engineering" || form.Get("requireReason") != "true" {
			t.Fatalf("edit form = %v", form)
		}
		// Every field is validated with the file's rules and messages.
		cases := []struct{ field, value, msg string }{
			{"maxDuration", "4x", `resources.prod-db.maxDuration: invalid duration "4x" (use Go durations such as "90s", "15m", "4h")`},
			{"defaultDuration", "5h", `resources.prod-db.defaultDuration: 5h is longer than maxDuration 4h`},
			{"approvals", "0", `resources.prod-db.approvals: must be at least 1, not 0`},
			{"rgroup", "jit-prod-db", `resources.prod-db.group: Tailscale group "jit-prod-db" must start with "group:"`},
			{"rgroup", "group:eng", `"group:eng" is also a synced group (groups); a Tailscale group is either synced from Okta or a resource's group, never both`},
			{"eligible", "SRE\nSRE", `resources.prod-db.eligible[1]: "SRE" is listed twice`},
		}
		for _, c := range cases {
			bad := url.Values{}
			for k, v := range form {
				bad[k] = v
			}
			bad.Set(c.field, c.value)
			code, _, page := p.post(t, alice, "/admin/catalog/save", bad)
			kept := htmlEscape(c.value)
			if c.field == "eligible" {
				kept = `name="eligible" value="SRE" checked`
			}
			if code != 400 || !strings.Contains(pageText(page), c.msg) || !strings.Contains(page, kept) {
				t.Errorf("%s = %q: %d, want 400 with %q and the input kept:\n%s", c.field, c.value, code, c.msg, pageText(page))
			}
		}

		form.Set("maxDuration", "2h")
		form.Set("eligible", "Engineering\nSRE")
		code, loc, page := p.post(t, alice, "/admin/catalog/save", form)
		if code != http.StatusSeeOther || loc != "/admin/catalog/resources/prod-db" {
			t.Fatalf("save = %d %q %s", code, loc, pageText(page))
		}
		_, page = p.page(t, alice, loc)
		if text := pageText(page); !strings.Contains(text, "prod-db: eligible Engineering → Engineering, SRE; maxDuration 4h → 2h.") {
			t.Errorf("saved page = %s", text)
		}
		if code, body := request("carol", `{"resource":"prod-db","duration":"3h","reason":"deploy"}`); code != 400 || !strings.Contains(body, "longer than the maximum 2h") {
			t.Errorf("carol asks 3h = %d %s", code, body)
		}
		approve := func(body string) (int, string) {
			t.Helper()
			var r struct{ ID int64 }
			if err := json.Unmarshal([]byte(body), &r); err != nil || r.ID == 0 {
				t.Fatalf("not a request: %s", body)
			}
			res, b := do(t, "POST", fmt.Sprintf("%s/api/v1/requests/%d/approve", p.srv.URL, r.ID), p.tokens["adam"], `{}`, "Content-Type", "application/json")
			return res.StatusCode, b
		}
		code, body := request("carol", `{"resource":"prod-db","duration":"2h","reason":"deploy"}`)
		if code != 201 {
			t.Fatalf("carol asks 2h = %d %s", code, body)
		}
		if code, body := approve(body); code != 200 {
			t.Fatalf("approving carol = %d %s", code, body)
		}
		code, bobsRequest := request("bob", `{"resource":"prod-db","duration":"1h","reason":"deploy"}`)
		if code != 201 {
			t.Fatalf("bob asks = %d %s", code, bobsRequest)
		}

		// A new resource: its group appears in the policy, empty.
		_, page = p.page(t, alice, "/admin/catalog/new-resource")
		form = formValues(t, page, "resource-form")
		form.Set("name", "staging")
		form.Set("rgroup", "group:jit-staging")
		form.Set("description", "Staging cluster")
		code, _, page = p.post(t, alice, "/admin/catalog/preview", form)
		if text := pageText(page); code != 200 || !strings.Contains(text, "New resource staging (Tailscale group group:jit-staging).") || !strings.Contains(text, "(added to the policy)") {
			t.Errorf("preview of a new resource = %d %s", code, text)
		}
		if code, _, _ := p.post(t, alice, "/admin/catalog/save", formValues(t, page, "save-form")); code != http.StatusSeeOther {
			t.Fatalf("creating staging = %d", code)
		}
		p.waitPolicy(t, "group:jit-staging", []string{})
		_, page = p.page(t, alice, "/admin/catalog/new-resource")
		form = formValues(t, page, "resource-form")
		form.Set("name", "staging")
		form.Set("rgroup", "group:jit-staging-2")
		if code, _, page := p.post(t, alice, "/admin/catalog/save", form); code != 400 || !strings.Contains(pageText(page), "a resource named staging already exists") {
			t.Errorf("a second staging = %d %s", code, pageText(page))
		}

		// Retire: no new requests; the active grant stays.
		_, page = p.page(t, alice, "/admin/catalog/resources/prod-db")
		form = formValues(t, page, "retire-form")
		if code, _, _ := p.post(t, alice, "/admin/catalog/save", form); code != http.StatusSeeOther {
			t.Fatalf("retire = %d", code)
		}
		if code, body := request("bob", `{"resource":"prod-db","duration":"1h","reason":"deploy"}`); code != 409 || !strings.Contains(body, "prod-db is retired: it takes no new requests") {
			t.Errorf("request for a retired resource = %d %s", code, body)
		}
		if code, body := approve(bobsRequest); code != 409 || !strings.Contains(body, "prod-db was retired since request") {
			t.Errorf("approving a request made before retiring = %d %s", code, body)
		}
		res, body := do(t, "GET", p.srv.URL+"/api/v1/resources", p.tokens["bob"], "")
		if res.StatusCode != 200 || !strings.Contains(body, `"group":"group:jit-prod-db","maxDuration":"2h","defaultDuration":"1h","requireReason":true,"eligible":["Engineering","SRE"],"canRequest":false`) {
			t.Errorf("resources after retiring = %s", body)
		}
		var active int64
		db.Model(&grants.Grant{}).Where("resource = ? AND status = ?", "prod-db", grants.GrantActive).Count(&active)
		if active != 1 {
			t.Errorf("%d active grants after retiring, want carol's", active)
		}
		_, page = p.page(t, alice, "/admin/catalog/resources/prod-db")
		if !strings.Contains(pageText(page), "carol@example.com") || !strings.Contains(page, `id="restore"`) {
			t.Errorf("retired resource page = %s", pageText(page))
		}
		// Restore.
		if code, _, _ := p.post(t, alice, "/admin/catalog/save", formValues(t, page, "retire-form")); code != http.StatusSeeOther {
			t.Fatalf("restore = %d", code)
		}
		if code, body := approve(bobsRequest); code != 200 {
			t.Errorf("approving bob's request after restoring = %d %s", code, body)
		}
		// Moving a resource whose grants are active is refused.
		_, page = p.page(t, alice, "/admin/catalog/resources/prod-db/edit")
		form = formValues(t, page, "resource-form")
		form.Set("rgroup", "group:jit-db")
		if code, _, page := p.post(t, alice, "/admin/catalog/save", form); code != 400 || !strings.Contains(pageText(page), "active grant(s) in group:jit-prod-db") {
			t.Errorf("moving prod-db = %d %s", code, pageText(page))
		}
	})
}

func TestCatalogConcurrentEditsConflict(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		alice, adam := p.admin(t, "alice"), p.admin(t, "adam")
		_, alicePage := p.page(t, alice, "/admin/catalog/resources/prod-db/edit")
		_, adamPage := p.page(t, adam, "/admin/catalog/resources/prod-db/edit")
		aliceForm, adamForm := formValues(t, alicePage, "resource-form"), formValues(t, adamPage, "resource-form")

		aliceForm.Set("description", "Production Aurora Postgres")
		if code, _, page := p.post(t, alice, "/admin/catalog/save", aliceForm); code != http.StatusSeeOther {
			t.Fatalf("alice saves = %d %s", code, pageText(page))
		}
		adamForm.Set("maxDuration", "2h")
		adamForm.Set("autoApprove", "SRE")
		code, _, page := p.post(t, adam, "/admin/catalog/save", adamForm)
		text := pageText(page)
		if code != http.StatusConflict || !strings.Contains(text, "Conflict: alice@example.com changed this") ||
			!strings.Contains(text, "description: Production Aurora Postgres") {
			t.Fatalf("adam's stale save = %d %s", code, text)
		}
		// Nothing is lost: alice's change stands, adam's input is on the form.
		r := p.current(t).Resources["prod-db"]
		if r.Description != "Production Aurora Postgres" || r.MaxDuration != 4*time.Hour || len(r.AutoApprove) != 0 {
			t.Errorf("after the conflict prod-db = %+v", r)
		}
		again := formValues(t, page, "resource-form")
		if again.Get("maxDuration") != "2h" || again.Get("autoApprove") != "SRE" || again.Get("description") != "Production database" {
			t.Errorf("adam's form after the conflict = %v", again)
		}
		// He takes alice's description and saves on top of her version.
		again.Set("description", "Production Aurora Postgres")
		if code, _, page := p.post(t, adam, "/admin/catalog/save", again); code != http.StatusSeeOther {
			t.Fatalf("adam saves again = %d %s", code, pageText(page))
		}
		r = p.current(t).Resources["prod-db"]
		if r.Description != "Production Aurora Postgres" || r.MaxDuration != 2*time.Hour || !slices.Equal(r.AutoApprove, []string{"SRE"}) {
			t.Errorf("after adam's second save prod-db = %+v", r)
		}

		// An edit of something else in between is no conflict: both land.
		_, adamPage = p.page(t, adam, "/admin/catalog/resources/prod-db/edit")
		adamForm = formValues(t, adamPage, "resource-form")
		_, alicePage = p.page(t, alice, "/admin/catalog/new-group")
		aliceForm = formValues(t, alicePage, "group-form")
		aliceForm.Set("group", "group:finance")
		aliceForm.Set("okta", "Finance")
		if code, _, _ := p.post(t, alice, "/admin/catalog/save", aliceForm); code != http.StatusSeeOther {
			t.Fatalf("alice adds a mapping = %d", code)
		}
		adamForm.Set("defaultDuration", "30m")
		if code, _, page := p.post(t, adam, "/admin/catalog/save", adamForm); code != http.StatusSeeOther {
			t.Fatalf("adam's save after an unrelated change = %d %s", code, pageText(page))
		}
		c := p.current(t)
		if c.Groups["group:finance"] != "Finance" || c.Resources["prod-db"].DefaultDuration != 30*time.Minute {
			t.Errorf("both changes should land: %v %+v", c.Groups, c.Resources["prod-db"])
		}
		var n int64
		db.Model(&grants.AuditEvent{}).Where("action = ?", "catalog.replace").Count(&n)
		if n != 5 { // the seed, alice, adam, alice, adam
			t.Errorf("%d catalog.replace events, want 5", n)
		}
	})
}

func TestCatalogMembershipAndDirectGrants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		p.waitPolicy(t, "group:eng", []string{"alice@example.com", "bob@example.com"})
		alice := p.admin(t, "alice")

		// Why someone is in a synced group, and where to change it.
		_, page := p.page(t, alice, "/admin/catalog/groups/group:eng")
		row := between(page, `data-member="bob@example.com"`, "</tr>")
		if !strings.Contains(pageText(row), `Okta group "Engineering"`) || !strings.Contains(row, "in the tailnet") || !strings.Contains(row, p.clock.Now().Format("2006-01-02")) {
			t.Errorf("bob's row = %s", pageText(row))
		}
		if !strings.Contains(page, `href="https://example.okta.com/admin/group/g-engineering"`) {
			t.Errorf("no link to manage the group in Okta: %s", page)
		}

		// A direct grant: refused for oneself, then given, audited, applied.
		grant := func(form url.Values) (int, string, string) {
			return p.post(t, alice, "/admin/catalog/resources/prod-db/grants", form)
		}
		code, _, page := grant(url.Values{"user": {"alice@example.com"}, "duration": {"1h"}, "reason": {"x"}})
		if code != 403 || !strings.Contains(pageText(page), "admins cannot grant themselves access") || !strings.Contains(page, `value="alice@example.com"`) {
			t.Errorf("granting oneself = %d %s", code, pageText(page))
		}
		code, _, page = grant(url.Values{"user": {"carol@example.com"}, "duration": {"5h"}, "reason": {"INC-7"}})
		if code != 400 || !strings.Contains(pageText(page), "longer than the maximum 4h") {
			t.Errorf("granting too long = %d %s", code, pageText(page))
		}
		code, loc, _ := grant(url.Values{"user": {"carol@example.com"}, "duration": {"30m"}, "reason": {"INC-7 break-glass"}})
		if code != http.StatusSeeOther || loc != "/admin/catalog/resources/prod-db" {
			t.Fatalf("direct grant = %d %q", code, loc)
		}
		p.waitPolicy(t, "group:jit-prod-db", []string{"carol@example.com"})
		_, page = p.page(t, alice, loc)
		row = between(page, `data-user="carol@example.com"`, "</tr>")
		if text := pageText(row); !strings.Contains(text, "admin grant by alice@example.com: INC-7 break-glass") ||
			!strings.Contains(text, p.clock.Now().Add(30*time.Minute).Format("2006-01-02 15:04:05 UTC")) {
			t.Errorf("carol's grant row = %s", text)
		}
		var ev grants.AuditEvent
		db.Where("action = ?", "grant.admin-grant").Take(&ev)
		if ev.Actor != "alice@example.com" || !strings.Contains(ev.Details, "INC-7 break-glass") {
			t.Errorf("admin grant audit = %+v", ev)
		}

		// It expires on time and leaves the tailnet.
		p.clock.Advance(31 * time.Minute)
		if _, err := grants.NewStore(db).ExpireGrants(t.Context(), p.clock.Now()); err != nil {
			t.Fatal(err)
		}
		p.waitPolicy(t, "group:jit-prod-db", []string{})
		_, page = p.page(t, alice, loc)
		if strings.Contains(page, `data-user="carol@example.com"`) || !strings.Contains(pageText(between(page, "Recently ended", "</table>")), "expired") {
			t.Errorf("after expiry: %s", pageText(page))
		}

		// Revoke: bob's grant ends now.
		if code, _, _ := grant(url.Values{"user": {"bob@example.com"}, "reason": {"debugging"}}); code != http.StatusSeeOther {
			t.Fatalf("granting bob = %d", code)
		}
		p.waitPolicy(t, "group:jit-prod-db", []string{"bob@example.com"})
		_, page = p.page(t, alice, loc)
		id := between(page, `<tr data-grant="`, `"`)
		code, loc, _ = p.post(t, alice, "/admin/catalog/grants/"+id+"/revoke", url.Values{"reason": {"done"}})
		if code != http.StatusSeeOther || loc != "/admin/catalog/resources/prod-db" {
			t.Fatalf("revoke = %d %q", code, loc)
		}
		p.waitPolicy(t, "group:jit-prod-db", []string{})
		_, page = p.page(t, alice, loc)
		if text := pageText(page); !strings.Contains(text, fmt.Sprintf("Grant %s revoked", id)) || !strings.Contains(text, "revoked by alice@example.com: done") {
			t.Errorf("after revoking: %s", text)
		}
	})
}

// wakeAndPass wakes the reconciler and returns a channel closed after its
// next pass.
func wakeAndPass(p *catalogPortal) <-chan struct{} {
	ch := p.rec.WaitPass()
	p.rec.Wake()
	return ch
}

// between returns the text of s after the first from, up to the next to.
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", `"`, "&#34;", "<", "&lt;", ">", "&gt;", "\n", "\n").Replace(s)
}

// TestCatalogEditsKeepTheOtherSections: a dashboard edit changes its one
// definition; the sections it does not edit stay as they are.
func TestCatalogEditsKeepTheOtherSections(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		if err := db.Create(&grants.DirectoryGroup{ID: "g-security", Name: "Security", SyncedAt: time.Now()}).Error; err != nil {
			t.Fatal(err)
		}
		withRest := strings.Replace(catalogSeed, `"admins": ["Portal Admins"],`,
			`"admins": ["Portal Admins", "Security"], "offboarding": {"tailscaleDevices": "delete"}, "keepEmpty": ["group:old"],`, 1)
		if res, body := do(t, "PUT", p.srv.URL+"/api/v1/catalog", p.tokens["alice"], withRest, "If-Match", "*"); res.StatusCode != 200 {
			t.Fatalf("PUT = %d %s", res.StatusCode, body)
		}
		before := p.current(t)
		alice := p.admin(t, "alice")
		_, page := p.page(t, alice, "/admin/catalog/resources/prod-db/edit")
		form := formValues(t, page, "resource-form")
		form.Set("description", "Production Aurora Postgres")
		if code, _, page := p.post(t, alice, "/admin/catalog/save", form); code != http.StatusSeeOther {
			t.Fatalf("save = %d %s", code, pageText(page))
		}
		after, err := grants.ParseCatalog("after", p.current(t).Format()) // a private copy to change
		if err != nil {
			t.Fatal(err)
		}
		r := after.Resources["prod-db"]
		r.Description = before.Resources["prod-db"].Description
		after.Resources["prod-db"] = r
		if string(after.Format()) != string(before.Format()) {
			t.Errorf("the edit changed more than the description:\nbefore\n%s\nafter\n%s", before.Format(), after.Format())
		}
		if !after.DeleteDevices || !slices.Equal(after.Admins, []string{"Portal Admins", "Security"}) {
			t.Errorf("other sections lost: %+v", after)
		}
	})
}
