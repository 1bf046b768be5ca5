package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/web"
)

// oidcPortal is a portal whose sign-in goes to a simulated Okta org.
type oidcPortal struct {
	*testPortal
	okta *oktafake.Server
}

func newOIDCPortal(t *testing.T, db *database.DB) *oidcPortal {
	t.Helper()
	okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeOkta)
	p := newTestPortal(t, db, &web.OIDCConfig{Issuer: oktaURL, ClientID: "portal", ClientSecret: "s3cret"})
	okta.AddClient(oktafake.Client{ID: "portal", Secret: "s3cret", RedirectURIs: []string{p.srv.URL + "/auth/callback"}})
	return &oidcPortal{testPortal: p, okta: okta}
}

// browser is an HTTP client with cookies that does not follow redirects, so
// each hop can be checked.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// signIn walks the whole OIDC flow: /login → Okta's picker → pick → callback.
// It returns the portal's final answer to the callback.
func (p *oidcPortal) signIn(t *testing.T, c *http.Client, login, next string) *http.Response {
	t.Helper()
	res, _ := get(t, c, p.srv.URL+"/login?next="+url.QueryEscape(next))
	if res.StatusCode != http.StatusFound {
		t.Fatalf("/login = %d", res.StatusCode)
	}
	authorize := res.Header.Get("Location")
	au, _ := url.Parse(authorize)
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" {
		t.Fatalf("authorize URL lacks PKCE/state/nonce: %s", authorize)
	}
	res, page := get(t, c, authorize)
	if res.StatusCode != 200 {
		t.Fatalf("picker = %d %s", res.StatusCode, page)
	}
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	u, ok := p.okta.User(login)
	if !ok {
		t.Fatalf("no Okta user %s", login)
	}
	form.Set("user", u.ID)
	res, err := c.PostForm(au.Scheme+"://"+au.Host+"/oauth2/v1/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	callback := res.Header.Get("Location")
	if !strings.HasPrefix(callback, p.srv.URL+"/auth/callback?") {
		t.Fatalf("picker redirected to %q (status %d)", callback, res.StatusCode)
	}
	res, err = c.Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

func TestSignInWithOIDC(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newOIDCPortal(t, db)
		p.okta.AddUser(oktafake.User{ID: "u1", Login: "alice@example.com", Email: "Alice@Example.com", FirstName: "Alice", LastName: "Admin"})
		addUser(t, db, "u1", "alice@example.com", grants.StatusActive, "Engineering")
		c := browser(t)

		res := p.signIn(t, c, "alice@example.com", "/admin?tab=audit")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin?tab=audit" {
			t.Fatalf("callback = %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		var session *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == "portal_session" {
				session = ck
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie = %+v", session)
		}
		_, home := get(t, c, p.srv.URL+"/")
		if !strings.Contains(home, "alice@example.com") || !strings.Contains(home, "Engineering") {
			t.Errorf("home page does not show the signed-in user:\n%s", home)
		}
		res, me := get(t, c, p.srv.URL+"/api/v1/me")
		if res.StatusCode != 200 || !strings.Contains(me, `"email":"alice@example.com"`) {
			t.Errorf("/api/v1/me with the session = %d %s", res.StatusCode, me)
		}

		// Sign out destroys the server-side session too.
		req, _ := http.NewRequest("POST", p.srv.URL+"/logout", nil)
		req.Header.Set("Origin", p.srv.URL)
		if res, err := c.Do(req); err != nil || res.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout = %v %v", res, err)
		}
		var n int64
		db.Table("sessions").Where("email = ?", "alice@example.com").Count(&n)
		if n != 0 {
			t.Errorf("%d session row(s) left after logout", n)
		}
		c.Jar.SetCookies(mustURL(p.srv.URL), []*http.Cookie{session}) // replay the old cookie
		if res, _ := get(t, c, p.srv.URL+"/api/v1/me"); res.StatusCode != 401 {
			t.Errorf("old session cookie after logout = %d, want 401", res.StatusCode)
		}
	})
}

func TestSignInRefusals(t *testing.T) {
	db := dbtest.SQLite(t)
	p := newOIDCPortal(t, db)
	p.okta.AddUser(oktafake.User{ID: "u2", Login: "frank@example.com", Email: "frank@example.com"})
	p.okta.AddUser(oktafake.User{Login: "nobody@example.com", Email: "nobody@example.com"})
	// The snapshot says SUSPENDED even though Okta still lets the user pick.
	addUser(t, db, "u2", "frank@example.com", grants.StatusSuspended)

	res := p.signIn(t, browser(t), "frank@example.com", "/")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("suspended user signed in: %d", res.StatusCode)
	}
	res = p.signIn(t, browser(t), "nobody@example.com", "/")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("user unknown to the snapshot signed in: %d", res.StatusCode)
	}

	// A callback that this browser did not start is refused.
	c := browser(t)
	res, body := get(t, c, p.srv.URL+"/auth/callback?code=x&state=forged")
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "start again") {
		t.Errorf("forged callback = %d %s", res.StatusCode, body)
	}
}

func TestNoOpenRedirectAfterSignIn(t *testing.T) {
	db := dbtest.SQLite(t)
	p := newOIDCPortal(t, db)
	p.okta.AddUser(oktafake.User{ID: "u1", Login: "alice@example.com", Email: "alice@example.com"})
	addUser(t, db, "u1", "alice@example.com", grants.StatusActive)
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", ""} {
		res := p.signIn(t, browser(t), "alice@example.com", next)
		if loc := res.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q, want /", next, loc)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// A handler that changes the session and then fails still has its session
// committed: here a wrong state consumes the sign-in attempt, so the real
// callback that follows is refused too.
func TestSessionIsCommittedWhenAHandlerFails(t *testing.T) {
	db := dbtest.SQLite(t)
	p := newOIDCPortal(t, db)
	p.okta.AddUser(oktafake.User{ID: "u1", Login: "alice@example.com", Email: "alice@example.com"})
	addUser(t, db, "u1", "alice@example.com", grants.StatusActive)
	if res := p.signIn(t, browser(t), "alice@example.com", "/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("control: an undisturbed sign-in = %d", res.StatusCode)
	}
	c := browser(t)
	res, _ := get(t, c, p.srv.URL+"/login?next=/")
	au, _ := url.Parse(res.Header.Get("Location"))
	if res, _ := get(t, c, p.srv.URL+"/auth/callback?code=x&state=wrong"); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong state = %d", res.StatusCode)
	}
	_, page := get(t, c, au.String())
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	u, _ := p.okta.User("alice@example.com")
	form.Set("user", u.ID)
	res, err := c.PostForm(au.Scheme+"://"+au.Host+"/oauth2/v1/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	res, body := get(t, c, res.Header.Get("Location"))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "stale") {
		t.Errorf("callback after a failed attempt = %d; the failed handler's session change was not committed", res.StatusCode)
	}
}
