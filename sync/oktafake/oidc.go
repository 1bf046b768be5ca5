package oktafake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The org authorization server's lifetimes.
const (
	codeLifetime  = 60 * time.Second
	tokenLifetime = time.Hour
)

// scopesSupported are the scopes the fake's org authorization server grants.
var scopesSupported = []string{"openid", "profile", "email", "address", "phone", "groups"}

type authCode struct {
	clientID    string
	redirectURI string
	scopes      []string
	nonce       string
	challenge   string
	userID      string
	authTime    time.Time
	expires     time.Time
	used        bool
	accessToken string // issued from this code; revoked if the code is replayed
}

type accessToken struct {
	userID   string
	clientID string
	scopes   []string
	expires  time.Time
}

func (s *Server) webRoutes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	m.HandleFunc("GET /oauth2/v1/authorize", s.authorize)
	m.Handle("POST /oauth2/v1/authorize", http.NewCrossOriginProtection().Handler(http.HandlerFunc(s.authorizePick)))
	m.HandleFunc("POST /oauth2/v1/token", s.token)
	m.HandleFunc("GET /oauth2/v1/keys", s.keys)
	m.HandleFunc("GET /oauth2/v1/userinfo", s.userinfo)
	m.HandleFunc("POST /oauth2/v1/userinfo", s.userinfo)
	m.HandleFunc("GET /oauth2/v1/logout", s.logout)
	s.adminRoutes(m)
	return m
}

// discovery is the org authorization server's OpenID Provider metadata.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	iss := s.baseURL(r)
	w.Header().Set("Cache-Control", "max-age=86400, must-revalidate")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/oauth2/v1/authorize",
		"token_endpoint":                        iss + "/oauth2/v1/token",
		"userinfo_endpoint":                     iss + "/oauth2/v1/userinfo",
		"jwks_uri":                              iss + "/oauth2/v1/keys",
		"end_session_endpoint":                  iss + "/oauth2/v1/logout",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "client_credentials"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      scopesSupported,
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"claims_supported": []string{
			"iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp", "nonce",
			"name", "given_name", "family_name", "preferred_username", "email", "email_verified", "locale", "zoneinfo", "updated_at", "at_hash",
		},
		"code_challenge_methods_supported":                 []string{"S256"},
		"request_parameter_supported":                      false,
		"claims_parameter_supported":                       false,
		"request_object_signing_alg_values_supported":      []string{},
		"frontchannel_logout_supported":                    false,
		"dpop_signing_alg_values_supported":                []string{},
		"authorization_response_iss_parameter_supported":   false,
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256", "RS384", "RS512"},
	})
}

// keys is the JWKS of the signing key.
func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	pub := &s.key.PublicKey
	w.Header().Set("Cache-Control", "max-age=3600, must-revalidate")
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA",
		"alg": "RS256",
		"kid": s.kid,
		"use": "sig",
		"e":   b64(big.NewInt(int64(pub.E)).Bytes()),
		"n":   b64(pub.N.Bytes()),
	}}})
}

// authzRequest is an /authorize request's parameters.
type authzRequest struct {
	ClientID      string
	RedirectURI   string
	ResponseType  string
	Scope         string
	State         string
	Nonce         string
	CodeChallenge string
	Method        string
	ResponseMode  string
}

func readAuthzRequest(v url.Values) authzRequest {
	return authzRequest{
		ClientID:      v.Get("client_id"),
		RedirectURI:   v.Get("redirect_uri"),
		ResponseType:  v.Get("response_type"),
		Scope:         v.Get("scope"),
		State:         v.Get("state"),
		Nonce:         v.Get("nonce"),
		CodeChallenge: v.Get("code_challenge"),
		Method:        v.Get("code_challenge_method"),
		ResponseMode:  v.Get("response_mode"),
	}
}

// hidden lists the request's parameters as the picker's hidden form fields.
func (a authzRequest) Hidden() [][2]string {
	return [][2]string{
		{"client_id", a.ClientID}, {"redirect_uri", a.RedirectURI}, {"response_type", a.ResponseType},
		{"scope", a.Scope}, {"state", a.State}, {"nonce", a.Nonce},
		{"code_challenge", a.CodeChallenge}, {"code_challenge_method", a.Method},
	}
}

// authzError is an OAuth error of an /authorize request. When page is set
// the redirect URI cannot be trusted, so the error is shown, not redirected.
type authzError struct {
	code, description string
	page              bool
}

// checkAuthz validates an /authorize request the way Okta does.
func (s *Server) checkAuthz(a authzRequest) *authzError {
	s.mu.Lock()
	c, ok := s.clients[a.ClientID]
	s.mu.Unlock()
	if a.ClientID == "" || !ok {
		return &authzError{code: "invalid_client", description: "Invalid value for 'client_id' parameter.", page: true}
	}
	if a.RedirectURI == "" || !slices.Contains(c.RedirectURIs, a.RedirectURI) {
		return &authzError{code: "invalid_request", description: "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.", page: true}
	}
	switch {
	case a.ResponseType != "code":
		return &authzError{code: "unsupported_response_type", description: "The response type is not supported by the authorization server. Configured response types: [code]."}
	case a.ResponseMode != "" && a.ResponseMode != "query":
		return &authzError{code: "unsupported_response_mode", description: fmt.Sprintf("The response mode '%s' is not supported by the authorization server. Configured response modes: [query].", a.ResponseMode)}
	case !slices.Contains(strings.Fields(a.Scope), "openid"):
		return &authzError{code: "invalid_scope", description: "The 'scope' parameter must contain 'openid'."}
	}
	for _, sc := range strings.Fields(a.Scope) {
		if !slices.Contains(scopesSupported, sc) {
			return &authzError{code: "invalid_scope", description: "One or more scopes are not configured for the authorization server resource."}
		}
	}
	switch {
	case a.State == "":
		return &authzError{code: "invalid_request", description: "The 'state' parameter is required."}
	case a.Nonce == "":
		return &authzError{code: "invalid_request", description: "The 'nonce' parameter is required."}
	case a.CodeChallenge == "":
		return &authzError{code: "invalid_request", description: "PKCE code challenge is required."}
	case a.Method != "S256":
		return &authzError{code: "invalid_request", description: "PKCE code challenge method is not supported. Supported methods: [S256]."}
	case !validPKCE(a.CodeChallenge):
		return &authzError{code: "invalid_request", description: "PKCE code challenge contains illegal characters or is not between 43 and 128 characters."}
	}
	return nil
}

// validPKCE checks a code challenge or verifier: 43-128 unreserved characters.
func validPKCE(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}

// failAuthz answers an invalid /authorize request: an error page when the
// redirect URI is unusable, otherwise a redirect carrying error and state.
func (s *Server) failAuthz(w http.ResponseWriter, r *http.Request, a authzRequest, e *authzError) {
	if e.page {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_ = errorPage.Execute(w, map[string]string{"Code": e.code, "Description": e.description})
		return
	}
	q := url.Values{"error": {e.code}, "error_description": {e.description}}
	if a.State != "" {
		q.Set("state", a.State)
	}
	http.Redirect(w, r, withQuery(a.RedirectURI, q), http.StatusFound)
}

func withQuery(rawURL string, add url.Values) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	q := u.Query()
	for k, vs := range add {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// authorize shows the user picker (the fake's sign-in page).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	a := readAuthzRequest(r.URL.Query())
	if e := s.checkAuthz(a); e != nil {
		s.failAuthz(w, r, a, e)
		return
	}
	s.renderPicker(w, a, "", http.StatusOK)
}

type pickerUser struct {
	ID, Login, Email, Name, Title string
}

func (s *Server) renderPicker(w http.ResponseWriter, a authzRequest, problem string, status int) {
	s.mu.Lock()
	var users []pickerUser
	for _, u := range s.sortedUsersLocked() {
		if u.status == StatusActive {
			users = append(users, pickerUser{ID: u.id, Login: u.login, Email: u.email, Name: strings.TrimSpace(u.firstName + " " + u.lastName), Title: u.title})
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pickerPage.Execute(w, map[string]any{"Request": a, "Users": users, "Error": problem})
}

// authorizePick signs in the user chosen on the picker and redirects back
// to the client with a code.
func (s *Server) authorizePick(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	a := readAuthzRequest(r.PostForm)
	if e := s.checkAuthz(a); e != nil {
		s.failAuthz(w, r, a, e)
		return
	}
	s.mu.Lock()
	u := s.users[r.PostForm.Get("user")]
	if u == nil || u.status != StatusActive {
		s.mu.Unlock()
		s.renderPicker(w, a, "Unable to sign in", http.StatusForbidden)
		return
	}
	now := s.now()
	code := randomToken()
	s.codes[code] = &authCode{
		clientID: a.ClientID, redirectURI: a.RedirectURI, scopes: strings.Fields(a.Scope),
		nonce: a.Nonce, challenge: a.CodeChallenge, userID: u.id,
		authTime: now, expires: now.Add(codeLifetime),
	}
	u.lastLogin = now
	s.emitLocked("user.session.start", s.userTargetLocked(u))
	s.mu.Unlock()
	http.Redirect(w, r, withQuery(a.RedirectURI, url.Values{"code": {code}, "state": {a.State}}), http.StatusFound)
}

func tokenError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// token redeems an authorization code (client_secret_basic,
// client_secret_post, or a public client with PKCE only), or issues a
// service app's scoped token for the client credentials grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "The request body is not a valid form.")
		return
	}
	if r.Form.Get("grant_type") == "client_credentials" {
		s.clientCredentialsToken(w, r)
		return
	}
	f := r.PostForm
	clientID, secret, err := clientCredentials(r)
	if err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	switch {
	case clientID == "" || !ok:
		tokenError(w, http.StatusUnauthorized, "invalid_client", "The client_id is not valid.")
		return
	case c.Secret != "" && secret == "":
		tokenError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed. Either the client or the client credentials are invalid.")
		return
	case c.Secret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1:
		tokenError(w, http.StatusUnauthorized, "invalid_client", "The client secret supplied for a confidential client is invalid.")
		return
	}
	if gt := f.Get("grant_type"); gt != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server. Configured grant types: [authorization_code].")
		return
	}
	now := s.now()
	code := s.codes[f.Get("code")]
	if code == nil || code.clientID != clientID || now.After(code.expires) {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "The authorization code is invalid or has expired.")
		return
	}
	if code.used {
		// A replayed code revokes what it was exchanged for (RFC 6749 4.1.2).
		delete(s.tokens, code.accessToken)
		tokenError(w, http.StatusBadRequest, "invalid_grant", "The authorization code is invalid or has expired.")
		return
	}
	code.used = true
	if f.Get("redirect_uri") != code.redirectURI {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "The 'redirect_uri' does not match the redirection URI used in the authorization request.")
		return
	}
	verifier := f.Get("code_verifier")
	if verifier == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "The 'code_verifier' parameter is required.")
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	if !validPKCE(verifier) || b64(sum[:]) != code.challenge {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed.")
		return
	}
	u := s.users[code.userID]
	if u == nil || u.status != StatusActive {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "The user is not active.")
		return
	}
	iss := s.baseURLLocked(r)
	at, err := s.sign(map[string]any{
		"ver": 1, "jti": "AT." + randomID(43), "iss": iss, "aud": iss,
		"iat": now.Unix(), "exp": now.Add(tokenLifetime).Unix(),
		"cid": clientID, "uid": u.id, "scp": code.scopes, "sub": u.login,
	})
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	atHash := sha256.Sum256([]byte(at))
	claims := map[string]any{
		"sub": u.id, "ver": 1, "iss": iss, "aud": clientID,
		"iat": now.Unix(), "exp": now.Add(tokenLifetime).Unix(),
		"jti": "ID." + randomID(43), "amr": []string{"pwd"}, "idp": s.orgID,
		"nonce": code.nonce, "auth_time": code.authTime.Unix(),
		"at_hash": b64(atHash[:16]),
	}
	if slices.Contains(code.scopes, "profile") {
		claims["name"] = strings.TrimSpace(u.firstName + " " + u.lastName)
		claims["preferred_username"] = u.login
	}
	if slices.Contains(code.scopes, "email") {
		claims["email"] = u.email
	}
	idt, err := s.sign(claims)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	s.tokens[at] = &accessToken{userID: u.id, clientID: clientID, scopes: code.scopes, expires: now.Add(tokenLifetime)}
	code.accessToken = at
	s.pruneLocked(now)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":   "Bearer",
		"expires_in":   int(tokenLifetime.Seconds()),
		"access_token": at,
		"scope":        strings.Join(code.scopes, " "),
		"id_token":     idt,
	})
}

// pruneLocked forgets expired codes and tokens.
func (s *Server) pruneLocked(now time.Time) {
	for k, c := range s.codes {
		if now.After(c.expires.Add(codeLifetime)) {
			delete(s.codes, k)
		}
	}
	for k, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, k)
		}
	}
}

// clientCredentials reads client_secret_basic or client_secret_post (or a
// bare client_id for a public client); using both is an error, as at Okta.
func clientCredentials(r *http.Request) (id, secret string, err error) {
	bid, bsecret, basic := r.BasicAuth()
	fid, fsecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if basic {
		if fsecret != "" {
			return "", "", errors.New("Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.")
		}
		// RFC 6749 2.3.1: both parts are form-urlencoded before base64.
		id, err1 := url.QueryUnescape(bid)
		secret, err2 := url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil {
			return "", "", errors.New("The client credentials in the Authorization header are malformed.")
		}
		return id, secret, nil
	}
	return fid, fsecret, nil
}

// userinfo answers the claims of a valid access token's user.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	iss := s.baseURLLocked(r)
	t := s.tokens[raw]
	var u *user
	if t != nil && !s.now().After(t.expires) {
		u = s.users[t.userID]
	}
	if u == nil || u.status != StatusActive {
		s.mu.Unlock()
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="%s/oauth2/v1/authorize", realm="%s", scope="openid", error="invalid_token", error_description="The access token is invalid.", resource="/oauth2/v1/userinfo"`, iss, iss))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	claims := map[string]any{"sub": u.id}
	if slices.Contains(t.scopes, "profile") {
		claims["name"] = strings.TrimSpace(u.firstName + " " + u.lastName)
		claims["given_name"] = u.firstName
		claims["family_name"] = u.lastName
		claims["preferred_username"] = u.login
		claims["locale"] = "en_US"
		claims["zoneinfo"] = "America/Los_Angeles"
		claims["updated_at"] = u.lastUpdated.Unix()
	}
	if slices.Contains(t.scopes, "email") {
		claims["email"] = u.email
		claims["email_verified"] = true
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, claims)
}

// logout ends the (stateless) session and returns to a registered
// post-logout redirect URI, checking id_token_hint like Okta.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	claims, err := s.verify(q.Get("id_token_hint"))
	if err != nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_ = errorPage.Execute(w, map[string]string{"Code": "invalid_request", "Description": "The 'id_token_hint' parameter is missing or invalid."})
		return
	}
	target := q.Get("post_logout_redirect_uri")
	if target == "" {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	aud, _ := claims["aud"].(string)
	s.mu.Lock()
	c, ok := s.clients[aud]
	s.mu.Unlock()
	if !ok || !slices.Contains(c.PostLogoutRedirectURIs, target) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_ = errorPage.Execute(w, map[string]string{"Code": "invalid_request", "Description": "The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings."})
		return
	}
	if st := q.Get("state"); st != "" {
		target = withQuery(target, url.Values{"state": {st}})
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// sign makes an RS256 JWT with the server's key.
func (s *Server) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"kid": s.kid, "alg": "RS256"})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signingInput := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return signingInput + "." + b64(sig), nil
}

// verify checks a JWT's signature against the server's key and returns its claims.
func (s *Server) verify(jwt string) (map[string]any, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, errors.New("malformed token")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, errors.New("malformed signature")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return nil, errors.New("bad signature")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("malformed payload")
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, errors.New("malformed payload")
	}
	return claims, nil
}

// keyID is the key's RFC 7638 thumbprint.
func keyID(pub *rsa.PublicKey) string {
	e := b64(big.NewInt(int64(pub.E)).Bytes())
	sum := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// randomToken is an unguessable URL-safe string (authorization codes).
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b64(b)
}

var pickerPage = template.Must(template.New("picker").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign In - Okta (fake)</title>
<link rel="stylesheet" href="/portal.css">
<style>
main{max-width:28rem}
.users li{margin:.4rem 0}
.users button{width:100%;text-align:left;padding:.6rem .8rem}
.users button:hover{border-color:var(--accent)}
.email,.title{color:var(--muted);font-size:.9em}
</style>
</head>
<body>
<header class="top"><strong>Okta</strong> <span class="badge">simulated org</span></header>
<main class="card">
<h1>Sign In</h1>
<p>This is a simulated Okta org: pick who you are. There are no passwords.</p>
{{if .Error}}<p class="banner error" role="alert">{{.Error}}</p>{{end}}
{{if not .Users}}<p>No active users.</p>{{end}}
<ul class="plain users">
{{range .Users}}<li>
<form method="post" action="/oauth2/v1/authorize">
{{range $.Request.Hidden}}<input type="hidden" name="{{index . 0}}" value="{{index . 1}}">
{{end}}<button type="submit" name="user" value="{{.ID}}" data-login="{{.Login}}"><strong>{{if .Name}}{{.Name}}{{else}}{{.Login}}{{end}}</strong><br><span class="email">{{.Email}}</span>{{with .Title}}<br><span class="title">{{.}}</span>{{end}}</button>
</form>
</li>
{{end}}</ul>
</main>
</body>
</html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>400 Bad Request - Okta (fake)</title></head>
<body>
<h1>400 Bad Request</h1>
<p id="error-code">{{.Code}}</p>
<p id="error-description">{{.Description}}</p>
</body>
</html>
`))
