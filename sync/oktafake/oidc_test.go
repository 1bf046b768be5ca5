package oktafake

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	portalClientID = "0oaportal"
	portalSecret   = "portal-secret"
	portalCallback = "http://127.0.0.1:8080/auth/callback"
)

var portalClient = Client{ID: portalClientID, Secret: portalSecret, RedirectURIs: []string{portalCallback}}

// noFollow is a browser that shows redirects instead of following them.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type login struct {
	cfg      oauth2.Config
	provider *oidc.Provider
	verifier string
	state    string
	nonce    string
}

func newLogin(t *testing.T, issuer string) *login {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatalf("discovering the fake's OIDC provider: %v", err)
	}
	return &login{
		cfg: oauth2.Config{
			ClientID: portalClientID, ClientSecret: portalSecret, RedirectURL: portalCallback,
			Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
		provider: p,
		verifier: oauth2.GenerateVerifier(),
		state:    "state-" + randomID(8),
		nonce:    "nonce-" + randomID(8),
	}
}

func (l *login) authURL() string {
	return l.cfg.AuthCodeURL(l.state, oidc.Nonce(l.nonce), oauth2.S256ChallengeOption(l.verifier))
}

func get(t *testing.T, rawURL string) (*http.Response, string) {
	t.Helper()
	resp, err := noFollow.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var (
	formRE   = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)">(.*?)</form>`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	buttonRE = regexp.MustCompile(`<button type="submit" name="user" value="([^"]+)" data-login="([^"]+)"`)
)

// pick submits the picker form of the user with that login, as a browser would.
func pick(t *testing.T, issuer, page, login string) *http.Response {
	t.Helper()
	for _, f := range formRE.FindAllStringSubmatch(page, -1) {
		b := buttonRE.FindStringSubmatch(f[2])
		if b == nil || html.UnescapeString(b[2]) != login {
			continue
		}
		form := url.Values{"user": {b[1]}}
		for _, h := range hiddenRE.FindAllStringSubmatch(f[2], -1) {
			form.Set(h[1], html.UnescapeString(h[2]))
		}
		resp, err := noFollow.PostForm(issuer+html.UnescapeString(f[1]), form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	t.Fatalf("no picker button for %s in:\n%s", login, page)
	return nil
}

// codeFrom checks the redirect back to the client and returns its code.
func codeFrom(t *testing.T, resp *http.Response, state string) string {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("picking a user answered %s, want a redirect", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != portalCallback {
		t.Fatalf("redirected to %s, want %s", got, portalCallback)
	}
	if loc.Query().Get("state") != state {
		t.Errorf("state = %q, want %q", loc.Query().Get("state"), state)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	return code
}

func signIn(t *testing.T, issuer string, l *login, who string) string {
	t.Helper()
	resp, page := get(t, l.authURL())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorize answered %s: %s", resp.Status, page)
	}
	return codeFrom(t, pick(t, issuer, page, who), l.state)
}

func oauthErrorCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

func TestOIDCLoginEndToEnd(t *testing.T) {
	s, issuer := startFake(t, Options{Clients: []Client{portalClient}})
	alice := s.AddUser(User{Login: "alice@example.com", Email: "Alice@Example.com", FirstName: "Alice", LastName: "Liddell"})
	s.AddUser(User{Login: "bob@example.com", FirstName: "Bob", LastName: "Builder"})
	ctx := context.Background()
	l := newLogin(t, issuer)

	_, page := get(t, l.authURL())
	for _, want := range []string{"Alice Liddell", "Alice@Example.com", "Bob Builder"} {
		if !strings.Contains(page, want) {
			t.Errorf("picker does not show %q", want)
		}
	}
	code := codeFrom(t, pick(t, issuer, page, "alice@example.com"), l.state)

	tok, err := l.cfg.Exchange(ctx, code, oauth2.VerifierOption(l.verifier))
	if err != nil {
		t.Fatalf("exchanging the code: %v", err)
	}
	if tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
		t.Errorf("token type %q expiry %v", tok.TokenType, tok.Expiry)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := l.provider.Verifier(&oidc.Config{ClientID: portalClientID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verifying the ID token: %v", err)
	}
	if idt.Nonce != l.nonce || idt.Subject != alice || idt.Issuer != issuer {
		t.Errorf("nonce %q sub %q iss %q", idt.Nonce, idt.Subject, idt.Issuer)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		Email, Name       string
		PreferredUsername string `json:"preferred_username"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Email != "Alice@Example.com" || claims.Name != "Alice Liddell" || claims.PreferredUsername != "alice@example.com" {
		t.Errorf("claims = %+v", claims)
	}
	info, err := l.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Email != "Alice@Example.com" || info.Subject != alice {
		t.Errorf("userinfo = %+v, %v", info, err)
	}
	if u, _ := s.User(alice); u.LastLogin.IsZero() {
		t.Error("signing in did not set lastLogin")
	}
	if n := s.Calls()["POST /oauth2/v1/token"]; n != 1 {
		t.Errorf("token calls = %d", n)
	}

	// Replaying the code is refused and revokes the token it bought.
	_, err = l.cfg.Exchange(ctx, code, oauth2.VerifierOption(l.verifier))
	if oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("reused code: %v, want invalid_grant", err)
	}
	if _, err := l.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("the token of a replayed code still works")
	}
}

func TestIDTokenFromAnotherKeyIsRejected(t *testing.T) {
	other := New(Options{APIToken: "x"}) // its own, new key
	s, issuer := startFake(t, Options{Clients: []Client{portalClient}})
	s.AddUser(User{Login: "alice@example.com"})
	forged, err := other.sign(map[string]any{"iss": issuer, "aud": portalClientID, "sub": "x", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	l := newLogin(t, issuer)
	if _, err := l.provider.Verifier(&oidc.Config{ClientID: portalClientID}).Verify(context.Background(), forged); err == nil {
		t.Error("a token signed with another key verified")
	}
}

func TestTokenRefusesWrongVerifierRedirectAndSecret(t *testing.T) {
	s, issuer := startFake(t, Options{Clients: []Client{portalClient}})
	s.AddUser(User{Login: "alice@example.com"})
	ctx := context.Background()

	l := newLogin(t, issuer)
	code := signIn(t, issuer, l, "alice@example.com")
	if _, err := l.cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("wrong verifier: %v, want invalid_grant", err)
	}
	// The failed attempt used the code up.
	if _, err := l.cfg.Exchange(ctx, code, oauth2.VerifierOption(l.verifier)); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("code after a failed exchange: %v", err)
	}

	l = newLogin(t, issuer)
	code = signIn(t, issuer, l, "alice@example.com")
	if _, err := l.cfg.Exchange(ctx, code); err == nil {
		t.Error("exchange without a verifier succeeded")
	}

	l = newLogin(t, issuer)
	code = signIn(t, issuer, l, "alice@example.com")
	wrongRedirect := l.cfg
	wrongRedirect.RedirectURL = "http://127.0.0.1:8080/elsewhere"
	if _, err := wrongRedirect.Exchange(ctx, code, oauth2.VerifierOption(l.verifier)); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("wrong redirect_uri: %v", err)
	}

	l = newLogin(t, issuer)
	code = signIn(t, issuer, l, "alice@example.com")
	wrongSecret := l.cfg
	wrongSecret.ClientSecret = "guess"
	wrongSecret.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	if _, err := wrongSecret.Exchange(ctx, code, oauth2.VerifierOption(l.verifier)); oauthErrorCode(err) != "invalid_client" {
		t.Errorf("wrong secret: %v, want invalid_client", err)
	}
}

func TestClientSecretPostWorks(t *testing.T) {
	s, issuer := startFake(t, Options{Clients: []Client{portalClient}})
	s.AddUser(User{Login: "alice@example.com"})
	l := newLogin(t, issuer)
	l.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	code := signIn(t, issuer, l, "alice@example.com")
	if _, err := l.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(l.verifier)); err != nil {
		t.Errorf("client_secret_post: %v", err)
	}
}

func TestCodeExpiresAfterSixtySeconds(t *testing.T) {
	clock := newTestClock(time.Now())
	s, issuer := startFake(t, Options{Clients: []Client{portalClient}, Clock: clock.Now})
	s.AddUser(User{Login: "alice@example.com"})
	l := newLogin(t, issuer)
	code := signIn(t, issuer, l, "alice@example.com")
	clock.Advance(61 * time.Second)
	if _, err := l.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(l.verifier)); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("expired code: %v, want invalid_grant", err)
	}
}

func TestInactiveUsersCannotSignIn(t *testing.T) {
	s, issuer := startFake(t, Options{Clients: []Client{portalClient}})
	s.AddUser(User{Login: "alice@example.com", FirstName: "Alice"})
	s.AddUser(User{Login: "sam@example.com", FirstName: "Suspended", LastName: "Sam", Status: StatusSuspended})
	l := newLogin(t, issuer)

	_, page := get(t, l.authURL())
	if strings.Contains(page, "sam@example.com") {
		t.Error("the picker lists a suspended user")
	}
	// Alice is shown, then deactivated before she clicks.
	if err := s.SetUserStatus("alice@example.com", StatusDeprovisioned); err != nil {
		t.Fatal(err)
	}
	resp := pick(t, issuer, page, "alice@example.com")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("picking a deactivated user answered %s", resp.Status)
	}

	// A session that outlives its user's deactivation stops working.
	if err := s.SetUserStatus("alice@example.com", StatusActive); err != nil {
		t.Fatal(err)
	}
	code := signIn(t, issuer, l, "alice@example.com")
	tok, err := l.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(l.verifier))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserStatus("alice@example.com", StatusSuspended); err != nil {
		t.Fatal(err)
	}
	if _, err := l.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo answered for a suspended user")
	}
}

func TestPickerShowsAnErrorForAnInactiveUser(t *testing.T) {
	s, issuer := startFake(t, Options{Clients: []Client{portalClient}})
	id := s.AddUser(User{Login: "alice@example.com"})
	l := newLogin(t, issuer)
	_, page := get(t, l.authURL())
	if err := s.SetUserStatus(id, StatusSuspended); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"user": {id}}
	for _, h := range hiddenRE.FindAllStringSubmatch(page, -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	resp, err := noFollow.PostForm(issuer+"/oauth2/v1/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "Unable to sign in") {
		t.Errorf("answer %s:\n%s", resp.Status, body)
	}
}

func TestAuthorizeValidatesTheRequest(t *testing.T) {
	_, issuer := startFake(t, Options{Clients: []Client{portalClient}})
	l := newLogin(t, issuer)
	good, _ := url.Parse(l.authURL())

	with := func(change func(q url.Values)) string {
		u := *good
		q := u.Query()
		change(q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	pages := map[string]string{
		"unknown client":           with(func(q url.Values) { q.Set("client_id", "nope") }),
		"unregistered redirect":    with(func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }),
		"redirect with extra path": with(func(q url.Values) { q.Set("redirect_uri", portalCallback+"/x") }),
	}
	for name, u := range pages {
		resp, body := get(t, u)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %s, want a 400 page and no redirect", name, resp.Status)
		}
		if !strings.Contains(body, "400") {
			t.Errorf("%s: page does not say 400", name)
		}
	}
	redirects := map[string]struct {
		url, code string
	}{
		"no PKCE":        {with(func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }), "invalid_request"},
		"plain PKCE":     {with(func(q url.Values) { q.Set("code_challenge_method", "plain") }), "invalid_request"},
		"no nonce":       {with(func(q url.Values) { q.Del("nonce") }), "invalid_request"},
		"no openid":      {with(func(q url.Values) { q.Set("scope", "profile email") }), "invalid_scope"},
		"implicit":       {with(func(q url.Values) { q.Set("response_type", "token") }), "unsupported_response_type"},
		"unknown scope":  {with(func(q url.Values) { q.Set("scope", "openid admin") }), "invalid_scope"},
		"offline access": {with(func(q url.Values) { q.Set("scope", "openid offline_access") }), "invalid_scope"},
	}
	for name, c := range redirects {
		resp, _ := get(t, c.url)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("error") != c.code || loc.Query().Get("state") != l.state {
			t.Errorf("%s: %s to %q, want a redirect with error=%s and the state", name, resp.Status, resp.Header.Get("Location"), c.code)
		}
	}
	resp, _ := get(t, with(func(q url.Values) { q.Del("state") }))
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("no state: %s %s", resp.Status, resp.Header.Get("Location"))
	}
}

func TestDiscoveryAndKeys(t *testing.T) {
	_, issuer := startFake(t, Options{})
	p, err := oidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Userinfo string   `json:"userinfo_endpoint"`
		JWKS     string   `json:"jwks_uri"`
		Methods  []string `json:"code_challenge_methods_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if p.Endpoint().AuthURL != issuer+"/oauth2/v1/authorize" || p.Endpoint().TokenURL != issuer+"/oauth2/v1/token" ||
		meta.JWKS != issuer+"/oauth2/v1/keys" || meta.Userinfo != issuer+"/oauth2/v1/userinfo" || len(meta.Methods) != 1 || meta.Methods[0] != "S256" {
		t.Errorf("metadata: %+v %+v", p.Endpoint(), meta)
	}
	resp, body := get(t, issuer+"/oauth2/v1/keys")
	if resp.StatusCode != 200 || !strings.Contains(body, `"kty":"RSA"`) || !strings.Contains(body, `"alg":"RS256"`) {
		t.Errorf("keys: %s %s", resp.Status, body)
	}
}

func TestLogoutReturnsToARegisteredURI(t *testing.T) {
	c := portalClient
	c.PostLogoutRedirectURIs = []string{"http://127.0.0.1:8080/"}
	s, issuer := startFake(t, Options{Clients: []Client{c}})
	s.AddUser(User{Login: "alice@example.com"})
	l := newLogin(t, issuer)
	code := signIn(t, issuer, l, "alice@example.com")
	tok, err := l.cfg.Exchange(context.Background(), code, oauth2.VerifierOption(l.verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, _ := tok.Extra("id_token").(string)
	q := url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"http://127.0.0.1:8080/"}, "state": {"s1"}}
	resp, _ := get(t, issuer+"/oauth2/v1/logout?"+q.Encode())
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://127.0.0.1:8080/?state=s1" {
		t.Errorf("logout: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	q.Set("post_logout_redirect_uri", "https://evil.example/")
	if resp, _ := get(t, issuer+"/oauth2/v1/logout?"+q.Encode()); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("logout to an unregistered URI: %s", resp.Status)
	}
}
