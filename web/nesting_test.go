package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestDeepNestingIsRefusedNotFatal: a megabyte of "[" (and nesting just
// past 32 levels) sent to the catalog PUT, a JSON API route and the Okta
// hook is a 400 that says so; the server keeps serving.
func TestDeepNestingIsRefusedNotFatal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newCatalogPortal(t, db, false)
		alice := p.tokens["alice"]
		megabyte := strings.Repeat("[", 1_000_000)
		just := strings.Repeat(`{"a":`, 33) + "1" + strings.Repeat("}", 33)
		fine := strings.Repeat("[", 32) + strings.Repeat("]", 32)
		for _, body := range []string{megabyte, just} {
			res, text := do(t, "PUT", p.srv.URL+"/api/v1/catalog", alice, body, "Content-Type", "application/json", "If-Match", "*")
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(apiError(t, text), "nested deeper than 32 levels") {
				t.Errorf("PUT catalog (%d bytes) = %d %.200s", len(body), res.StatusCode, text)
			}
			// JSON API bodies are limited to 64 KiB.
			res, text = do(t, "POST", p.srv.URL+"/api/v1/requests", alice, body[:min(len(body), 60_000)], "Content-Type", "application/json")
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(apiError(t, text), "nested deeper than 32 levels") {
				t.Errorf("POST request (%d bytes) = %d %.200s", len(body), res.StatusCode, text)
			}
		}
		// 32 levels are not refused for their depth.
		res, text := do(t, "PUT", p.srv.URL+"/api/v1/catalog", alice, fine, "Content-Type", "application/json", "If-Match", "*")
		if strings.Contains(text, "nested deeper") {
			t.Errorf("32 levels refused for their depth: %d %s", res.StatusCode, text)
		}
		if res, _ := do(t, "GET", p.srv.URL+"/healthz", "", ""); res.StatusCode != http.StatusOK {
			t.Errorf("healthz after deep bodies = %d", res.StatusCode)
		}
	})
}

// TestDeepNestingInOktaHookIsRefused: an authentic hook delivery nested
// deeper than 32 levels is a 400, not a crash.
func TestDeepNestingInOktaHookIsRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db, nil)
		body := `{"data": {"events": ` + strings.Repeat("[", 1_000_000) + `}}`
		res, text := do(t, "POST", p.srv.URL+"/hooks/okta", "", body, "Authorization", "hook-secret", "Content-Type", "application/json")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(text, "nested deeper than 32 levels") {
			t.Errorf("deep hook delivery = %d %.200s", res.StatusCode, text)
		}
		if res, _ := do(t, "GET", p.srv.URL+"/healthz", "", ""); res.StatusCode != http.StatusOK {
			t.Errorf("healthz after a deep hook = %d", res.StatusCode)
		}
	})
}
