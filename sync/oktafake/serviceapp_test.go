package oktafake

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

const appID = "0oaServiceApp"

var (
	otherKeyOnce sync.Once
	otherKey     *rsa.PrivateKey
)

func serviceAppKey(t *testing.T) *rsa.PrivateKey { return sharedKey(t) }

func anotherKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	otherKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		otherKey = k
	})
	return otherKey
}

func startWithServiceApp(t *testing.T, opts Options, scopes ...string) (*Server, string) {
	t.Helper()
	opts.ServiceApps = []ServiceApp{{ClientID: appID, Keys: []PublicKey{{ID: "k1", Key: &serviceAppKey(t).PublicKey}}, Scopes: scopes}}
	return startFake(t, opts)
}

// privateKeyClient is okta-sdk-golang in its PrivateKey authorization mode.
func privateKeyClient(t *testing.T, orgURL string, scopes ...string) *okta.Client {
	t.Helper()
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(serviceAppKey(t))})
	_, c, err := okta.NewClient(context.Background(),
		okta.WithOrgUrl(orgURL), okta.WithCache(false), okta.WithTestingDisableHttpsCheck(true), okta.WithRateLimitMaxRetries(0),
		okta.WithAuthorizationMode("PrivateKey"), okta.WithClientId(appID), okta.WithScopes(scopes),
		okta.WithPrivateKey(string(pemKey)), okta.WithPrivateKeyId("k1"))
	if err != nil {
		t.Fatalf("creating Okta client: %v", err)
	}
	return c
}

func TestSDKPrivateKeyModeGetsScopedTokens(t *testing.T) {
	s, base := startWithServiceApp(t, Options{}, "okta.users.read", "okta.groups.manage")
	g := s.AddGroup("SRE", "")
	id := s.AddUser(User{Login: "a@example.com"})
	ctx := context.Background()
	c := privateKeyClient(t, base, "okta.users.read", "okta.groups.manage", "okta.logs.read")

	users, _, err := c.User.ListUsers(ctx, nil)
	if err != nil || len(users) != 1 {
		t.Fatalf("listing users with okta.users.read: %v (%d)", err, len(users))
	}
	if _, _, err := c.Group.ListGroupUsers(ctx, g, nil); err != nil {
		t.Errorf("okta.groups.manage does not read groups: %v", err)
	}
	if _, err := c.Group.AddUserToGroup(ctx, g, id); err != nil {
		t.Errorf("okta.groups.manage does not change membership: %v", err)
	}
	// okta.logs.read was asked for but not granted: the token lacks it.
	_, _, err = c.LogEvent.GetLogs(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "does not contain the required scopes") {
		t.Errorf("reading logs without okta.logs.read: %v", err)
	}
	if _, err := c.User.SuspendUser(ctx, id); err == nil {
		t.Error("okta.users.read suspended a user")
	}
	if u, _ := s.User(id); u.Status != StatusActive {
		t.Errorf("a refused call changed the user: %s", u.Status)
	}
	if n := s.Calls()["POST /oauth2/v1/token"]; n != 1 {
		t.Errorf("%d token requests; the SDK caches its token for an hour", n)
	}
	// SSWS keeps working alongside.
	if _, _, err := sdkClient(t, base, testToken).LogEvent.GetLogs(ctx, query.NewQueryParams(query.WithLimit(1))); err != nil {
		t.Errorf("SSWS after OAuth: %v", err)
	}
}

func TestInsufficientScopeIsOktasRefusal(t *testing.T) {
	clock := newTestClock(time.Now().Truncate(time.Second))
	_, base := startWithServiceApp(t, Options{Clock: clock.Now}, "okta.users.read")
	tok := tokenFor(t, base, clock.Now(), "okta.users.read")
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/groups", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body oktaError
	_ = json.NewDecoder(resp.Body).Decode(&body)
	challenge := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != http.StatusForbidden || body.ErrorCode != "E0000006" || body.ErrorID == "" ||
		!strings.Contains(challenge, `error="insufficient_scope"`) || !strings.Contains(challenge, `scope="okta.groups.read"`) {
		t.Errorf("%s %+v, WWW-Authenticate %q", resp.Status, body, challenge)
	}
	if resp.Header.Get("X-Rate-Limit-Limit") == "" {
		t.Error("refusal without rate-limit headers")
	}
	// An hour later the token is dead.
	clock.Advance(time.Hour)
	req, _ = http.NewRequest(http.MethodGet, base+"/api/v1/users", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusUnauthorized || !strings.Contains(resp2.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("expired token: %s %q", resp2.Status, resp2.Header.Get("WWW-Authenticate"))
	}
}

// signJWT signs claims with key (RS256) and kid.
func signJWT(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": kid})
	p, _ := json.Marshal(claims)
	in := b64(h) + "." + b64(p)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + b64(sig)
}

func assertion(base string, now time.Time, edit func(map[string]any)) map[string]any {
	c := map[string]any{"iss": appID, "sub": appID, "aud": base + "/oauth2/v1/token",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": randomID(20)}
	if edit != nil {
		edit(c)
	}
	return c
}

func requestToken(t *testing.T, base string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(base+"/oauth2/v1/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func tokenForm(jwt, scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {jwtBearerAssertion}, "client_assertion": {jwt}}
}

func tokenFor(t *testing.T, base string, now time.Time, scope string) string {
	t.Helper()
	status, body := requestToken(t, base, tokenForm(signJWT(t, serviceAppKey(t), "k1", assertion(base, now, nil)), scope))
	tok, _ := body["access_token"].(string)
	if status != http.StatusOK || tok == "" || body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) {
		t.Fatalf("token: %d %v", status, body)
	}
	return tok
}

func TestTokenEndpointChecksTheAssertionLikeOkta(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	clock := newTestClock(now)
	_, base := startWithServiceApp(t, Options{Clock: clock.Now}, "okta.users.read", "okta.logs.read")
	key := serviceAppKey(t)
	reused := signJWT(t, key, "k1", assertion(base, now, nil))
	if status, body := requestToken(t, base, tokenForm(reused, "okta.users.read okta.groups.read")); status != http.StatusOK || body["scope"] != "okta.users.read" {
		t.Fatalf("a good assertion: %d %v (want only the granted scope)", status, body)
	}
	cases := []struct {
		name, jwt, scope string
		status           int
		code, desc       string
	}{
		{"reused jti", reused, "okta.users.read", 401, "invalid_client", "already been used"},
		{"wrong audience", signJWT(t, key, "k1", assertion(base, now, func(c map[string]any) { c["aud"] = base })), "okta.users.read", 401, "invalid_client", "audience"},
		{"expired", signJWT(t, key, "k1", assertion(base, now, func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() })), "okta.users.read", 401, "invalid_client", "expired"},
		{"no exp", signJWT(t, key, "k1", assertion(base, now, func(c map[string]any) { delete(c, "exp") })), "okta.users.read", 401, "invalid_client", "'exp'"},
		{"exp over an hour", signJWT(t, key, "k1", assertion(base, now, func(c map[string]any) { c["exp"] = now.Add(2 * time.Hour).Unix() })), "okta.users.read", 401, "invalid_client", "too far"},
		{"unknown client", signJWT(t, key, "k1", assertion(base, now, func(c map[string]any) { c["iss"], c["sub"] = "0oaNobody", "0oaNobody" })), "okta.users.read", 401, "invalid_client", "issuer"},
		{"sub is not the client", signJWT(t, key, "k1", assertion(base, now, func(c map[string]any) { c["sub"] = "someone" })), "okta.users.read", 401, "invalid_client", "subject"},
		{"unknown kid", signJWT(t, key, "k2", assertion(base, now, nil)), "okta.users.read", 401, "invalid_client", "kid"},
		{"another key", signJWT(t, anotherKey(t), "k1", assertion(base, now, nil)), "okta.users.read", 401, "invalid_client", "signature"},
		{"garbage", "not.a.jwt", "okta.users.read", 401, "invalid_client", "parsing"},
		{"no scope", signJWT(t, key, "k1", assertion(base, now, nil)), "", 400, "invalid_scope", "No scopes"},
		{"openid", signJWT(t, key, "k1", assertion(base, now, nil)), "openid", 400, "invalid_scope", "openid"},
		{"nothing granted", signJWT(t, key, "k1", assertion(base, now, nil)), "okta.groups.manage", 400, "consent_required", "not allowed"},
	}
	for _, c := range cases {
		status, body := requestToken(t, base, tokenForm(c.jwt, c.scope))
		desc, _ := body["error_description"].(string)
		if status != c.status || body["error"] != c.code || !strings.Contains(desc, c.desc) {
			t.Errorf("%s: %d %v, want %d %s (%s)", c.name, status, body, c.status, c.code, c.desc)
		}
	}
	form := tokenForm(signJWT(t, key, "k1", assertion(base, now, nil)), "okta.users.read")
	form.Set("client_secret", "s3cret")
	if status, body := requestToken(t, base, form); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("a client secret with client credentials: %d %v; Okta takes only private_key_jwt", status, body)
	}
}

func TestDeactivatedServiceAppLosesItsTokens(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	s, base := startWithServiceApp(t, Options{Clock: newTestClock(now).Now}, "okta.users.read")
	tok := tokenFor(t, base, now, "okta.users.read")
	if err := s.DeactivateServiceApp(appID); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/users", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a deactivated app's token: %s", resp.Status)
	}
	status, _ := requestToken(t, base, tokenForm(signJWT(t, serviceAppKey(t), "k1", assertion(base, now, nil)), "okta.users.read"))
	if status != http.StatusUnauthorized {
		t.Errorf("a deactivated app got a token: %d", status)
	}
}
