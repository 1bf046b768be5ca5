package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/web"
)

// pagesPortal is a portal with the JIT catalog and cast (jitPeople), whose
// people sign in through the simulated Okta, and whose tailnet policy a
// test sets.
type pagesPortal struct {
	*oidcPortal

	mu        gosync.Mutex
	policy    []byte
	policyErr error

	clients map[string]*http.Client
}

// newPagesPortal starts the portal; withPolicy gives it a tailnet policy
// reader (Options.Policy) that serves setPolicy's text.
func newPagesPortal(t *testing.T, db *database.DB, withPolicy bool) *pagesPortal {
	t.Helper()
	okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeOkta)
	cat, err := grants.ParseCatalog("jit.hujson", []byte(jitCatalog))
	if err != nil {
		t.Fatal(err)
	}
	tp := &testPortal{db: db, now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), catalog: cat}
	pp := &pagesPortal{oidcPortal: &oidcPortal{testPortal: tp, okta: okta}, clients: map[string]*http.Client{}}
	opts := web.Options{
		DB: db, Catalog: func() *grants.Catalog { return tp.catalog },
		OIDC:  &web.OIDCConfig{Issuer: oktaURL, ClientID: "portal", ClientSecret: "s3cret"},
		Clock: func() time.Time { return tp.now }, Wake: func() { tp.wakes++ },
	}
	if withPolicy {
		opts.Policy = func(context.Context) ([]byte, error) {
			pp.mu.Lock()
			defer pp.mu.Unlock()
			return pp.policy, pp.policyErr
		}
	}
	ts := servePortal(t, opts)
	tp.srv = ts
	okta.AddClient(oktafake.Client{ID: "portal", Secret: "s3cret", RedirectURIs: []string{ts.URL + "/auth/callback"}})
	for i, person := range jitPeople {
		okta.AddUser(oktafake.User{ID: fmt.Sprintf("u%d", i), Login: email(person.name), Email: email(person.name)})
		addUser(t, db, fmt.Sprintf("u%d", i), email(person.name), person.status, person.groups...)
	}
	return pp
}

func (pp *pagesPortal) setPolicy(text string, err error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	pp.policy, pp.policyErr = []byte(text), err
}

// as is who's signed-in browser ("" = anonymous), signing in the first time.
func (pp *pagesPortal) as(t *testing.T, who string) *http.Client {
	t.Helper()
	if c, ok := pp.clients[who]; ok {
		return c
	}
	c := browser(t)
	if who != "" {
		if res := pp.signIn(t, c, email(who), "/"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("signing in %s = %d", who, res.StatusCode)
		}
	}
	pp.clients[who] = c
	return c
}

// page is an answer of the portal to a browser.
type page struct {
	code     int
	body     string
	location string
}

// get loads path as who.
func (pp *pagesPortal) get(t *testing.T, who, path string) page {
	t.Helper()
	res, body := get(t, pp.as(t, who), pp.srv.URL+path)
	return page{res.StatusCode, body, res.Header.Get("Location")}
}

// post submits a form to path as who, as a same-origin browser form does.
func (pp *pagesPortal) post(t *testing.T, who, path string, form url.Values) page {
	t.Helper()
	req, err := http.NewRequest("POST", pp.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := pp.as(t, who).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, string(b), res.Header.Get("Location")}
}

// follow loads where a 303 went.
func (pp *pagesPortal) follow(t *testing.T, who string, p page) page {
	t.Helper()
	if p.code != http.StatusSeeOther {
		t.Fatalf("answer = %d, want a 303 redirect:\n%s", p.code, p.body)
	}
	return pp.get(t, who, p.location)
}

// must fails the test unless the page has the status and every want.
func (p page) must(t *testing.T, code int, want ...string) {
	t.Helper()
	if p.code != code {
		t.Errorf("status %d, want %d; page:\n%s", p.code, code, text(p.body))
		return
	}
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Errorf("page lacks %q; page:\n%s", w, text(p.body))
		}
	}
}

// mustNot fails the test if the page has any of these.
func (p page) mustNot(t *testing.T, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(p.body, u) {
			t.Errorf("page has %q; page:\n%s", u, text(p.body))
		}
	}
}

var (
	tagRE   = regexp.MustCompile(`(?s)<head>.*?</head>|<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// text is a page's main text, for failure messages.
func text(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	return strings.TrimSpace(spaceRE.ReplaceAllString(tagRE.ReplaceAllString(body, " "), " "))
}

// count counts the occurrences of s in the page.
func (p page) count(s string) int { return strings.Count(p.body, s) }

// fileRequest files a request through the domain as who.
func fileRequest(t *testing.T, pp *pagesPortal, who, resource string, d time.Duration, reason string) *grants.Request {
	t.Helper()
	p, err := grants.LookupPerson(t.Context(), pp.db.DB, email(who))
	if err != nil {
		t.Fatal(err)
	}
	r, err := grants.NewStore(pp.db).CreateRequest(t.Context(), pp.catalog, p, grants.RequestInput{Resource: resource, Duration: d, Reason: reason}, pp.now)
	if err != nil {
		t.Fatalf("%s requesting %s: %v", who, resource, err)
	}
	return r
}

// approve approves a request through the domain as who.
func approve(t *testing.T, pp *pagesPortal, who string, id int64) *grants.Request {
	t.Helper()
	p, err := grants.LookupPerson(t.Context(), pp.db.DB, email(who))
	if err != nil {
		t.Fatal(err)
	}
	r, err := grants.NewStore(pp.db).ApproveRequest(t.Context(), pp.catalog, id, p, "", pp.now)
	if err != nil {
		t.Fatalf("%s approving %d: %v", who, id, err)
	}
	return r
}

// idPath formats a path or text with ids.
func idPath(format string, ids ...int64) string {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return fmt.Sprintf(format, args...)
}
