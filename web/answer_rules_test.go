package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/web"
)

// TestAnswersAndBodies: authenticated answers are never stored; an https
// portal sends HSTS; JSON API bodies must be application/json (415
// otherwise); a state-changing request whose Origin is this host over
// another scheme is refused.
func TestAnswersAndBodies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		cat := &grants.Catalog{Admins: []string{"Portal Admins"}, Groups: map[string]string{}, Resources: map[string]grants.Resource{
			"db": {Name: "db", Group: "group:jit-db", MaxDuration: time.Hour, DefaultDuration: time.Hour, Approvals: 1},
		}}
		srv := servePortal(t, web.Options{DB: db, BaseURL: "https://portal.example.com", Catalog: func() *grants.Catalog { return cat }})
		addUser(t, db, "u1", "alice@example.com", grants.StatusActive, "Portal Admins")
		alice := token(t, db, "alice@example.com", time.Hour, time.Now())

		for _, path := range []string{"/api/v1/me", "/api/v1/grants", "/api/v1/resources"} {
			res, body := do(t, "GET", srv.URL+path, alice, "")
			if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("GET %s = %d, Cache-Control %q: %s", path, res.StatusCode, res.Header.Get("Cache-Control"), body)
			}
			if !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
				t.Errorf("GET %s: no HSTS on an https portal", path)
			}
		}
		body := `{"resource":"db","duration":"1h","reason":"x"}`
		for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/hujson"} {
			res, text := do(t, "POST", srv.URL+"/api/v1/requests", alice, body, "Content-Type", ct)
			if res.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(text, "application/json") {
				t.Errorf("POST with Content-Type %q = %d %s", ct, res.StatusCode, text)
			}
		}
		host := strings.TrimPrefix(srv.URL, "http://")
		res, text := do(t, "POST", srv.URL+"/api/v1/requests", alice, body, "Content-Type", "application/json", "Origin", "http://"+host)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("POST with Origin http://%s to an https portal = %d %s", host, res.StatusCode, text)
		}
		res, text = do(t, "POST", srv.URL+"/api/v1/requests", alice, body, "Content-Type", "application/json; charset=utf-8")
		if res.StatusCode != http.StatusCreated {
			t.Errorf("POST with application/json = %d %s", res.StatusCode, text)
		}
	})
}

// TestNoHSTSOverHTTP: a portal served over http sends no HSTS.
func TestNoHSTSOverHTTP(t *testing.T) {
	p := newTestPortal(t, dbtest.SQLite(t), nil)
	res, _ := do(t, "GET", p.srv.URL+"/healthz", "", "")
	if h := res.Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("HSTS %q over http", h)
	}
}
