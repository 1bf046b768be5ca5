package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/web"
)

// testPortal is a running web server on a test database.
type testPortal struct {
	db        *database.DB
	srv       *httptest.Server
	catalog   *grants.Catalog
	now       time.Time
	wakes     int
	hookWakes int
}

func newTestPortal(t *testing.T, db *database.DB, oidc *web.OIDCConfig) *testPortal {
	t.Helper()
	p := &testPortal{db: db, now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	p.catalog = &grants.Catalog{Admins: []string{"Portal Admins"}, Groups: map[string]string{}, Resources: map[string]grants.Resource{}}
	p.srv = servePortal(t, web.Options{
		DB: db, Catalog: func() *grants.Catalog { return p.catalog },
		OIDC: oidc, Clock: func() time.Time { return p.now }, Wake: func() { p.wakes++ },
		OktaHookSecret: "hook-secret", OnOktaEvents: func() { p.hookWakes++ },
	})
	return p
}

// addUser puts a person into the directory snapshot.
func addUser(t *testing.T, db *database.DB, id, email, status string, groups ...string) {
	t.Helper()
	now := time.Now().UTC()
	if err := db.Create(&grants.DirectoryUser{ID: id, Login: email, Email: email, Name: "User " + id, Status: status, SyncedAt: now}).Error; err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		gid := "g-" + strings.ReplaceAll(strings.ToLower(g), " ", "-")
		db.Where("id = ?", gid).FirstOrCreate(&grants.DirectoryGroup{ID: gid, Name: g, SyncedAt: now})
		if err := db.Create(&grants.DirectoryMembership{GroupID: gid, UserID: id}).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func token(t *testing.T, db *database.DB, email string, ttl time.Duration, now time.Time) string {
	t.Helper()
	secret, _, err := grants.NewStore(db).CreateToken(t.Context(), email, "test", ttl, now)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func do(t *testing.T, method, url, bearer, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestMeWithTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db, nil)
		addUser(t, db, "u1", "alice@example.com", grants.StatusActive, "Engineering", "Portal Admins")
		addUser(t, db, "u2", "frank@example.com", grants.StatusSuspended, "Engineering")
		alice := token(t, db, "Alice@Example.com", time.Hour, p.now)

		res, body := do(t, "GET", p.srv.URL+"/api/v1/me", alice, "")
		if res.StatusCode != 200 {
			t.Fatalf("me = %d %s", res.StatusCode, body)
		}
		var me struct {
			Email  string   `json:"email"`
			Name   string   `json:"name"`
			Admin  bool     `json:"admin"`
			Groups []string `json:"groups"`
		}
		if err := json.Unmarshal([]byte(body), &me); err != nil {
			t.Fatal(err)
		}
		if me.Email != "alice@example.com" || !me.Admin || strings.Join(me.Groups, ",") != "Engineering,Portal Admins" || me.Name != "User u1" {
			t.Errorf("me = %+v", me)
		}

		cases := []struct {
			name, bearer string
			want         int
			msg          string
		}{
			{"no credentials", "", 401, "sign in"},
			{"unknown token", "pat_nope", 401, "invalid"},
			{"not a portal token", "garbage", 401, "invalid"},
			{"suspended in Okta", token(t, db, "frank@example.com", time.Hour, p.now), 403, "SUSPENDED"},
			{"unknown to Okta", token(t, db, "zed@example.com", time.Hour, p.now), 403, "not a user"},
			{"expired token", token(t, db, "alice@example.com", time.Minute, p.now.Add(-time.Hour)), 401, "expired"},
		}
		for _, c := range cases {
			res, body := do(t, "GET", p.srv.URL+"/api/v1/me", c.bearer, "")
			var e struct{ Error string }
			json.Unmarshal([]byte(body), &e)
			if res.StatusCode != c.want || !strings.Contains(e.Error, c.msg) {
				t.Errorf("%s: %d %s, want %d with %q", c.name, res.StatusCode, body, c.want, c.msg)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s: Content-Type %q", c.name, ct)
			}
		}
	})
}

func TestTokensAreHashedAtRest(t *testing.T) {
	db := dbtest.SQLite(t)
	secret := token(t, db, "a@example.com", 0, time.Now())
	var stored []grants.APIToken
	db.Find(&stored)
	if len(stored) != 1 || strings.Contains(stored[0].TokenHash, secret) || stored[0].ExpiresAt != nil {
		t.Fatalf("stored %+v", stored)
	}
	if !strings.HasPrefix(secret, "pat_") || len(secret) < 40 {
		t.Errorf("secret %q looks weak", secret)
	}
}

func TestErrorsAreJSONUnderAPIAndHTMLElsewhere(t *testing.T) {
	db := dbtest.SQLite(t)
	p := newTestPortal(t, db, nil)
	res, body := do(t, "GET", p.srv.URL+"/api/v1/nope", "", "")
	if res.StatusCode != 401 || !strings.Contains(body, `"error"`) {
		t.Errorf("unauthenticated unknown API route = %d %s", res.StatusCode, body)
	}
	addUser(t, db, "u1", "alice@example.com", grants.StatusActive)
	res, body = do(t, "GET", p.srv.URL+"/api/v1/nope", token(t, db, "alice@example.com", time.Hour, p.now), "")
	if res.StatusCode != 404 || !strings.Contains(body, `"error":"no such API route"`) {
		t.Errorf("unknown API route = %d %s", res.StatusCode, body)
	}
	res, body = do(t, "GET", p.srv.URL+"/no/such/page", "", "")
	if res.StatusCode != 404 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<h1>404 Not Found</h1>") {
		t.Errorf("unknown page = %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	res, body = do(t, "GET", p.srv.URL+"/api/v1/me", "x", strings.Repeat("a", 70<<10))
	if res.StatusCode != 413 || !strings.Contains(body, `"error"`) {
		t.Errorf("oversized body = %d %s", res.StatusCode, body)
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db, nil)
		if res, body := do(t, "GET", p.srv.URL+"/healthz", "", ""); res.StatusCode != 200 {
			t.Errorf("healthz = %d %s", res.StatusCode, body)
		}
		if res, body := do(t, "GET", p.srv.URL+"/readyz", "", ""); res.StatusCode != 503 || !strings.Contains(body, "reconcile") {
			t.Errorf("readyz before any reconcile = %d %s", res.StatusCode, body)
		}
		ok := p.now.Add(time.Second)
		if err := db.Create(&grants.SyncStatus{ID: 1, LastSuccessAt: &ok, DirectoryReadAt: &ok, LastCompleteAt: &ok}).Error; err != nil {
			t.Fatal(err)
		}
		if res, body := do(t, "GET", p.srv.URL+"/readyz", "", ""); res.StatusCode != 200 {
			t.Errorf("readyz after a reconcile = %d %s", res.StatusCode, body)
		}
		res, body := do(t, "GET", p.srv.URL+"/metrics", "", "")
		if res.StatusCode != 200 || !strings.Contains(body, `portal_http_requests_total{code="200",method="GET",route="/healthz"} 1`) {
			t.Errorf("metrics = %d %s", res.StatusCode, body)
		}
	})
}

func TestStaticAssetsAreFingerprinted(t *testing.T) {
	db := dbtest.SQLite(t)
	p := newTestPortal(t, db, nil)
	_, page := do(t, "GET", p.srv.URL+"/", "", "")
	i := strings.Index(page, `href="/static/style.`)
	if i < 0 {
		t.Fatalf("no fingerprinted stylesheet link in %s", page)
	}
	link := page[i+len(`href="`):]
	link = link[:strings.Index(link, `"`)]
	res, body := do(t, "GET", p.srv.URL+link, "", "")
	if res.StatusCode != 200 || !strings.Contains(body, "--accent") || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("%s = %d %q %q", link, res.StatusCode, res.Header.Get("Cache-Control"), body[:min(len(body), 80)])
	}
	if res, _ := do(t, "GET", p.srv.URL+"/static/style.css", "", ""); res.StatusCode != 404 {
		t.Errorf("unfingerprinted name = %d, want 404", res.StatusCode)
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	db := dbtest.SQLite(t)
	p := newTestPortal(t, db, nil)
	res, _ := do(t, "POST", p.srv.URL+"/logout", "", "", "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST /logout = %d, want 403", res.StatusCode)
	}
	res, _ = do(t, "POST", p.srv.URL+"/logout", "", "", "Sec-Fetch-Site", "same-origin")
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusOK {
		t.Errorf("same-origin POST /logout = %d", res.StatusCode)
	}
}
