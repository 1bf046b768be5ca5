package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// apiError decodes {"error": …}.
func apiError(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not an API error: %s", body)
	}
	return e.Error
}

func TestCatalogAPIDatabaseMode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		url := p.srv.URL + "/api/v1/catalog"
		alice := p.tokens["alice"]

		res, body := do(t, "GET", url, alice, "")
		etag := res.Header.Get("ETag")
		if res.StatusCode != 200 || etag == "" || res.Header.Get("X-Catalog-Source") != "database" {
			t.Fatalf("GET = %d ETag %q source %q: %s", res.StatusCode, etag, res.Header.Get("X-Catalog-Source"), body)
		}
		got, err := grants.ParseCatalog("answer", []byte(body))
		if err != nil {
			t.Fatalf("the answer is not a catalog: %v\n%s", err, body)
		}
		want, _ := grants.ParseCatalog("seed", []byte(catalogSeed))
		if string(got.Format()) != string(want.Format()) {
			t.Errorf("GET = %s, want the seed", got.Format())
		}
		if res, body := do(t, "GET", url, p.tokens["bob"], ""); res.StatusCode != 403 {
			t.Errorf("GET as a non-admin = %d %s", res.StatusCode, body)
		}

		edited := strings.Replace(catalogSeed, `"maxDuration": "4h"`, `"maxDuration": "2h"`, 1)
		put := func(body string, header ...string) (*http.Response, string) {
			return do(t, "PUT", url, alice, body, append([]string{"Content-Type", "application/hujson"}, header...)...)
		}
		unchanged := func(what string) {
			t.Helper()
			if res, _ := do(t, "GET", url, alice, ""); res.Header.Get("ETag") != etag {
				t.Errorf("%s changed the catalog", what)
			}
		}

		// If-Match is required; a stale one is 409.
		if res, body := put(edited); res.StatusCode != http.StatusPreconditionRequired || !strings.Contains(apiError(t, body), "If-Match is required") {
			t.Errorf("PUT without If-Match = %d %s", res.StatusCode, body)
		}
		if res, body := put(edited, "If-Match", `"0123"`); res.StatusCode != 409 || !strings.Contains(apiError(t, body), "changed since you read it") {
			t.Errorf("PUT with a stale If-Match = %d %s", res.StatusCode, body)
		}
		unchanged("a refused PUT")

		// An invalid catalog is 400 with the start-up message.
		invalid := strings.Replace(catalogSeed, `"maxDuration": "4h"`, `"maxDuration": "4x"`, 1)
		_, startup := grants.ParseCatalog("catalog", []byte(invalid))
		if startup == nil {
			t.Fatal("the invalid catalog parses")
		}
		if res, body := put(invalid, "If-Match", etag); res.StatusCode != 400 || apiError(t, body) != startup.Error() {
			t.Errorf("PUT invalid = %d %s, want 400 %q", res.StatusCode, body, startup.Error())
		}
		if res, body := put("", "If-Match", etag); res.StatusCode != 400 {
			t.Errorf("PUT with no body = %d %s", res.StatusCode, body)
		}
		unchanged("an invalid PUT")

		// A good PUT: 200, the new ETag, audited with before and after, reconciled.
		res, body = put(edited, "If-Match", etag)
		newETag := res.Header.Get("ETag")
		if res.StatusCode != 200 || newETag == "" || newETag == etag || res.Header.Get("X-Catalog-Source") != "database" {
			t.Fatalf("PUT = %d ETag %q: %s", res.StatusCode, newETag, body)
		}
		if c := p.current(t); c.Resources["prod-db"].MaxDuration != 2*time.Hour {
			t.Errorf("after PUT prod-db = %+v", c.Resources["prod-db"])
		}
		if res, _ := do(t, "GET", url, alice, ""); res.Header.Get("ETag") != newETag {
			t.Errorf("GET after PUT has ETag %q, want %q", res.Header.Get("ETag"), newETag)
		}
		var ev grants.AuditEvent
		db.Where("action = ?", "catalog.replace").Order("id DESC").Take(&ev)
		if ev.Actor != "alice@example.com" || !strings.Contains(ev.Details, `\"maxDuration\": \"4h\"`) || !strings.Contains(ev.Details, `\"maxDuration\": \"2h\"`) {
			t.Errorf("audit event = %+v", ev)
		}
		// The one who read before alice's PUT is now stale; * overrides.
		if res, body := put(catalogSeed, "If-Match", etag); res.StatusCode != 409 {
			t.Errorf("PUT with the old ETag = %d %s", res.StatusCode, body)
		}
		if res, body := put(catalogSeed, "If-Match", `W/`+newETag); res.StatusCode != 409 {
			t.Errorf("PUT with a weak ETag = %d %s", res.StatusCode, body)
		}
		if res, body := put(catalogSeed, "If-Match", `"other", `+newETag); res.StatusCode != 200 {
			t.Errorf("PUT with a list holding the ETag = %d %s", res.StatusCode, body)
		}
		if res, body := put(edited, "If-Match", "*"); res.StatusCode != 200 {
			t.Errorf("PUT with If-Match: * = %d %s", res.StatusCode, body)
		}
		if res, body := do(t, "PUT", url, p.tokens["bob"], edited, "If-Match", "*"); res.StatusCode != 403 {
			t.Errorf("PUT as a non-admin = %d %s", res.StatusCode, body)
		}

		// A catalog of 200 groups and 200 resources is over 64 KiB: it fits.
		big := &grants.Catalog{Admins: []string{"Portal Admins"}, Groups: map[string]string{}, Resources: map[string]grants.Resource{}}
		for _, g := range []string{"Security", "On-Call"} {
			db.Where("name = ?", g).FirstOrCreate(&grants.DirectoryGroup{ID: "g-" + strings.ToLower(g), Name: g, SyncedAt: time.Now()})
		}
		for i := range 200 {
			team := fmt.Sprintf("Team %03d", i)
			if err := db.Create(&grants.DirectoryGroup{ID: fmt.Sprintf("g-team-%03d", i), Name: team, SyncedAt: time.Now()}).Error; err != nil {
				t.Fatal(err)
			}
			big.Groups[fmt.Sprintf("group:team-%03d", i)] = team
			big.Resources[fmt.Sprintf("service-%03d", i)] = grants.Resource{
				Description: fmt.Sprintf("Service number %03d of the production fleet", i), Group: fmt.Sprintf("group:jit-service-%03d", i),
				Eligible: []string{"Engineering", "SRE"}, Approvers: []string{"Security"}, Approvals: 1, AutoApprove: []string{"On-Call"},
				MaxDuration: 4 * time.Hour, DefaultDuration: time.Hour, RequireReason: true,
			}
		}
		text := string(big.Format())
		if len(text) <= 64<<10 {
			t.Fatalf("the big catalog is only %d bytes", len(text))
		}
		if res, body := put(text, "If-Match", "*"); res.StatusCode != 200 {
			t.Errorf("PUT of a %d-byte catalog = %d %.200s", len(text), res.StatusCode, body)
		}
		if c := p.current(t); len(c.Groups) != 200 || len(c.Resources) != 200 {
			t.Errorf("after the big PUT: %d groups, %d resources", len(c.Groups), len(c.Resources))
		}
		if res, body := put(strings.Repeat(" ", 1<<20+1), "If-Match", "*"); res.StatusCode != 413 {
			t.Errorf("PUT over 1 MiB = %d %.200s", res.StatusCode, body)
		}
	})
}

func TestCatalogAPIFileMode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, true)
		url := p.srv.URL + "/api/v1/catalog"
		res, body := do(t, "GET", url, p.tokens["alice"], "")
		etag := res.Header.Get("ETag")
		if res.StatusCode != 200 || etag == "" || res.Header.Get("X-Catalog-Source") != "file" || !strings.Contains(body, `"group:eng":"Engineering"`) {
			t.Fatalf("GET = %d ETag %q source %q: %s", res.StatusCode, etag, res.Header.Get("X-Catalog-Source"), body)
		}
		for _, ifMatch := range []string{etag, "*", ""} {
			res, body := do(t, "PUT", url, p.tokens["alice"], catalogSeed, "If-Match", ifMatch)
			if res.StatusCode != 409 || !strings.Contains(apiError(t, body), "managed in the file "+p.file) {
				t.Errorf("PUT (If-Match %q) in file mode = %d %s", ifMatch, res.StatusCode, body)
			}
		}
		var n int64
		db.Model(&grants.AuditEvent{}).Where("action = ?", "catalog.replace").Count(&n)
		if n != 0 {
			t.Errorf("%d catalog.replace events in file mode", n)
		}
	})
}

// TestCatalogRefusesOktaGroupsTheDirectoryDoesNotKnow: a typo in an Okta
// group name would leave requests nobody may approve; the API and the
// dashboard refuse it, naming the key (and, for the API's text, the line).
// A group created in Okta since the last poll is found by asking Okta; a
// name the catalog already had is not refused again.
func TestCatalogRefusesOktaGroupsTheDirectoryDoesNotKnow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		url := p.srv.URL + "/api/v1/catalog"
		put := func(body string) (*http.Response, string) {
			return do(t, "PUT", url, p.tokens["alice"], body, "Content-Type", "application/hujson", "If-Match", "*")
		}
		typo := strings.Replace(catalogSeed, `"approvers": ["Portal Admins"]`, `"approvers": ["Portal Admins", "Securty"]`, 1)
		res, body := put(typo)
		want := `catalog:10: resources.prod-db.approvers[1]: Okta group "Securty" is not in the Okta directory; check its spelling`
		if res.StatusCode != 400 || !strings.Contains(apiError(t, body), want) {
			t.Errorf("PUT naming Securty = %d %s, want 400 with %q", res.StatusCode, body, want)
		}

		// Created in Okta after the last poll: Okta itself is asked.
		id := p.okta.AddGroup("Contractors", "")
		withNew := strings.Replace(catalogSeed, `"eligible": ["Engineering"]`, `"eligible": ["Engineering", "Contractors"]`, 1)
		if res, body := put(withNew); res.StatusCode != 200 {
			t.Fatalf("PUT naming a group only Okta knows = %d %s", res.StatusCode, body)
		}
		// Gone from Okta since: an unrelated change still saves.
		if err := p.okta.DeleteGroup(id); err != nil {
			t.Fatal(err)
		}
		if res, body := put(strings.Replace(withNew, `"maxDuration": "4h"`, `"maxDuration": "2h"`, 1)); res.StatusCode != 200 {
			t.Errorf("PUT keeping a name Okta lost = %d %s", res.StatusCode, body)
		}

		// The dashboard's form refuses it next to the field.
		alice := p.admin(t, "alice")
		_, page := p.page(t, alice, "/admin/catalog/resources/prod-db/edit")
		form := formValues(t, page, "resource-form")
		form.Add("autoApprove", "On Call")
		code, _, page := p.post(t, alice, "/admin/catalog/save", form)
		text := pageText(page)
		if want := `resources.prod-db.autoApprove[0]: Okta group "On Call" is not in the Okta directory`; code != 400 || !strings.Contains(text, want) {
			t.Errorf("saving autoApprove On Call = %d, want 400 with %q:\n%s", code, want, text)
		}
		if !strings.Contains(page, `name="autoApprove" value="On Call" checked`) || !strings.Contains(page, "not in the directory") {
			t.Errorf("the form lost the choice or does not mark it:\n%s", page)
		}
	})
}

// TestCatalogPickersSearchTheDirectory: each Okta group list of the
// resource form searches the directory snapshot without JavaScript (the
// form resubmitted to itself) and through the live search, keeping what
// is chosen.
func TestCatalogPickersSearchTheDirectory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		alice := p.admin(t, "alice")
		_, page := p.page(t, alice, "/admin/catalog/resources/prod-db/edit")
		form := formValues(t, page, "resource-form")
		form.Set("q-eligible", "sr")
		_, page = p.page(t, alice, "/admin/catalog/resources/prod-db/edit?"+form.Encode())
		box := between(page, `id="okta-choices-eligible"`, `</div>`)
		if !strings.Contains(box, `name="eligible" value="Engineering" checked`) || !strings.Contains(box, `name="eligible" value="SRE">`) || strings.Contains(box, "Finance") {
			t.Errorf("eligible picker after searching sr:\n%s", box)
		}

		_, page = p.page(t, alice, "/admin/catalog/okta-groups?field=approvers&q=fin&okta=Portal+Admins")
		if !strings.Contains(page, `id="okta-choices-approvers"`) || !strings.Contains(page, `value="Portal Admins" checked`) || !strings.Contains(page, `type="checkbox" name="approvers" value="Finance">`) {
			t.Errorf("live search of approvers for fin:\n%s", page)
		}
		_, page = p.page(t, alice, "/admin/catalog/okta-groups?field=approvers&q=zzz")
		if !strings.Contains(page, "No Okta group in the directory matches “zzz”") {
			t.Errorf("live search for zzz:\n%s", page)
		}
		if code, page := p.page(t, alice, "/admin/catalog/okta-groups?field=owners"); code != 400 {
			t.Errorf("live search of an unknown field = %d %s", code, pageText(page))
		}
	})
}

// TestCatalogAdminsForm: the admin groups are chosen with the directory
// picker; a change that would end its author's own admin access, or leave
// no admin group, is refused next to the field.
func TestCatalogAdminsForm(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		alice := p.admin(t, "alice")
		_, page := p.page(t, alice, "/admin/catalog")
		if !strings.Contains(page, `href="/admin/catalog/admins/edit"`) {
			t.Fatalf("the overview has no link to change the admins:\n%s", pageText(page))
		}
		_, page = p.page(t, alice, "/admin/catalog/admins/edit")
		form := formValues(t, page, "admins-form")
		if got := form["admins"]; len(got) != 1 || got[0] != "Portal Admins" {
			t.Fatalf("admins form = %v", form)
		}
		cases := []struct {
			admins []string
			want   string
		}{
			{nil, "choose at least one Okta group"},
			{[]string{"SRE"}, "saving would end your own admin access: keep Portal Admins"},
			{[]string{"Portal Admins", "Securty"}, `admins[1]: Okta group "Securty" is not in the Okta directory`},
		}
		for _, c := range cases {
			bad := url.Values{}
			for k, v := range form {
				bad[k] = v
			}
			bad["admins"] = c.admins
			if code, _, page := p.post(t, alice, "/admin/catalog/save", bad); code != 400 || !strings.Contains(pageText(page), c.want) {
				t.Errorf("admins %q = %d, want 400 with %q:\n%s", c.admins, code, c.want, pageText(page))
			}
		}
		form["admins"] = []string{"Portal Admins", "SRE"}
		code, _, page := p.post(t, alice, "/admin/catalog/preview", form)
		if code != 200 || !strings.Contains(pageText(page), "Admins: Portal Admins, SRE.") {
			t.Fatalf("preview = %d %s", code, pageText(page))
		}
		if code, loc, page := p.post(t, alice, "/admin/catalog/save", form); code != 303 || loc != "/admin/catalog" {
			t.Fatalf("save = %d %q %s", code, loc, pageText(page))
		}
		if got := p.current(t).Admins; !slices.Equal(got, []string{"Portal Admins", "SRE"}) {
			t.Errorf("admins after saving = %q", got)
		}
		// carol (SRE) administers the portal now.
		if res, body := do(t, "GET", p.srv.URL+"/api/v1/catalog", p.tokens["carol"], ""); res.StatusCode != 200 {
			t.Errorf("carol reads the catalog = %d %s", res.StatusCode, body)
		}
	})
}
