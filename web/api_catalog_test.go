package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
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
		for i := range 200 {
			big.Groups[fmt.Sprintf("group:team-%03d", i)] = fmt.Sprintf("Team %03d", i)
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
