package oktafake

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strings"
	"time"
)

// OAuth 2.0 for Okta with an API service app, as in "Implement OAuth for
// Okta with a service app"
// (https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/)
// and "Scopes and supported endpoints" of "Implement OAuth for Okta"
// (https://developer.okta.com/docs/guides/implement-oauth-for-okta/main/):
//
//   - POST /oauth2/v1/token with grant_type=client_credentials, a scope,
//     client_assertion_type urn:ietf:params:oauth:client-assertion-type:jwt-bearer
//     and a client_assertion JWT signed (RS256/384/512) with a key of the
//     app's JWKS; iss and sub are the client id, aud the token endpoint's
//     URL, exp at most one hour ahead, jti optional but never reused;
//     private_key_jwt is the only client authentication accepted;
//   - the access token lasts one hour and holds the requested scopes that
//     are in the app's grants; none of them is consent_required;
//   - a Management API call with a Bearer token needs the operation's scope
//     (okta.<resource>.read for GET, .manage for changes, and .manage
//     includes .read); otherwise 403 with a WWW-Authenticate error
//     insufficient_scope, which okta-sdk-golang reads into its error.
//
// The error texts are those of Okta's OAuth 2.0 error catalog
// (https://developer.okta.com/docs/reference/error-codes/, oauth2 errors).
// okta-sdk-golang v2 (requestExecutor.go, getAccessTokenForPrivateKey)
// sends the token request's parameters in the query string with an empty
// form body, and its assertion has no jti; both are accepted as Okta does.

const (
	jwtBearerAssertion   = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	assertionMaxLifetime = time.Hour
)

// ServiceApp is an API service app: a client id, the public keys of its
// JWKS (the private keys sign its client assertions), and the Okta API
// scopes granted to it ("okta.users.read", "okta.groups.read",
// "okta.logs.read", ...).
type ServiceApp struct {
	ClientID string
	Keys     []PublicKey
	Scopes   []string
}

// PublicKey is one RSA key of a service app's JWKS and its kid (may be
// empty when the app has one key).
type PublicKey struct {
	ID  string
	Key *rsa.PublicKey
}

type serviceApp struct {
	ServiceApp
	disabled bool
}

// AddServiceApp registers (or replaces) an API service app. It refuses an
// app without a client id or keys, or with keys that share a kid.
func (s *Server) AddServiceApp(app ServiceApp) error {
	if app.ClientID == "" || len(app.Keys) == 0 {
		return errors.New("adding service app: a client id and at least one public key are required")
	}
	kids := map[string]bool{}
	for _, k := range app.Keys {
		if k.Key == nil || kids[k.ID] {
			return fmt.Errorf("adding service app %s: keys must be RSA keys with distinct kids", app.ClientID)
		}
		kids[k.ID] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app.Scopes = slices.Clone(app.Scopes)
	s.apps[app.ClientID] = &serviceApp{ServiceApp: app}
	return nil
}

// SetServiceAppScopes replaces the scopes granted to a service app. Tokens
// already issued keep the scopes they were issued with, as at Okta.
func (s *Server) SetServiceAppScopes(clientID string, scopes ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.apps[clientID]
	if app == nil {
		return fmt.Errorf("granting scopes to %s: service app %w", clientID, ErrNotFound)
	}
	app.Scopes = slices.Clone(scopes)
	return nil
}

// DeactivateServiceApp makes a service app unable to get tokens and revokes
// the tokens it holds, as deactivating the app in Okta does.
func (s *Server) DeactivateServiceApp(clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.apps[clientID]
	if app == nil {
		return fmt.Errorf("deactivating %s: service app %w", clientID, ErrNotFound)
	}
	app.disabled = true
	for tok, at := range s.tokens {
		if at.clientID == clientID && at.userID == "" {
			delete(s.tokens, tok)
		}
	}
	return nil
}

// clientCredentialsToken is POST /oauth2/v1/token with
// grant_type=client_credentials: a scoped token for a service app.
func (s *Server) clientCredentialsToken(w http.ResponseWriter, r *http.Request) {
	f := r.Form // query and body: okta-sdk-golang sends the query
	if r.PostForm.Get("client_secret") != "" || hasBasicAuth(r) {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.")
		return
	}
	switch f.Get("client_assertion_type") {
	case jwtBearerAssertion:
	case "":
		tokenError(w, http.StatusUnauthorized, "invalid_client", "No client credentials found.")
		return
	default:
		tokenError(w, http.StatusBadRequest, "invalid_request", "The client_assertion_type is invalid.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	iss := s.baseURLLocked(r)
	app, status, code, problem := s.checkAssertionLocked(f.Get("client_assertion"), f.Get("client_id"), iss+"/oauth2/v1/token", now)
	if problem != "" {
		tokenError(w, status, code, problem)
		return
	}
	scopes, status, code, problem := grantedScopes(strings.Fields(f.Get("scope")), app.Scopes)
	if problem != "" {
		tokenError(w, status, code, problem)
		return
	}
	at, err := s.sign(map[string]any{
		"ver": 1, "jti": "AT." + randomID(43), "iss": iss, "aud": iss,
		"iat": now.Unix(), "exp": now.Add(tokenLifetime).Unix(),
		"cid": app.ClientID, "scp": scopes, "sub": app.ClientID,
	})
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	s.tokens[at] = &accessToken{clientID: app.ClientID, scopes: scopes, expires: now.Add(tokenLifetime)}
	s.pruneLocked(now)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":   "Bearer",
		"expires_in":   int(tokenLifetime.Seconds()),
		"access_token": at,
		"scope":        strings.Join(scopes, " "),
	})
}

func hasBasicAuth(r *http.Request) bool {
	_, _, ok := r.BasicAuth()
	return ok
}

// checkAssertionLocked verifies a client assertion the way Okta does and
// returns its service app, or the status, OAuth error and description.
func (s *Server) checkAssertionLocked(assertion, clientID, audience string, now time.Time) (*serviceApp, int, string, string) {
	const unauthorized, invalid = http.StatusUnauthorized, "invalid_client"
	header, claims, signed, sig, err := splitJWT(assertion)
	if err != nil {
		return nil, unauthorized, invalid, "The parsing of the client_assertion failed."
	}
	iss, _ := claims["iss"].(string)
	app := s.apps[iss]
	if app == nil || app.disabled || clientID != "" && clientID != iss {
		return nil, unauthorized, invalid, "The issuer claim for client_assertion is not a valid client_id."
	}
	if sub, _ := claims["sub"].(string); sub != iss {
		return nil, unauthorized, invalid, "The subject claim for client_assertion is not a valid client_id."
	}
	h, ok := signatureHash(header.Alg)
	if !ok {
		return nil, unauthorized, invalid, "The client_assertion JWT signature algorithm is invalid."
	}
	keys := app.Keys
	if header.Kid != "" {
		keys = slices.DeleteFunc(slices.Clone(keys), func(k PublicKey) bool { return k.ID != header.Kid })
		if len(keys) == 0 {
			return nil, unauthorized, invalid, "The client_assertion JWT kid is invalid."
		}
	}
	if !verifiesWithAny(keys, h, signed, sig) {
		return nil, unauthorized, invalid, "The client_assertion signature is invalid."
	}
	if aud, _ := claims["aud"].(string); aud != audience {
		return nil, unauthorized, invalid, "The audience claim for client_assertion must be the endpoint invoked for the request."
	}
	exp, ok := claims["exp"].(float64)
	switch {
	case !ok:
		return nil, unauthorized, invalid, "The client_assertion must contain the 'exp' claim as seconds since epoch."
	case !time.Unix(int64(exp), 0).After(now):
		return nil, unauthorized, invalid, "The client_assertion token is expired."
	case time.Unix(int64(exp), 0).After(now.Add(assertionMaxLifetime)):
		return nil, unauthorized, invalid, "The client_assertion token has an expiration too far into the future."
	}
	if iat, ok := claims["iat"].(float64); ok && time.Unix(int64(iat), 0).After(now) {
		return nil, unauthorized, invalid, "The client_assertion token must be issued before the current time."
	}
	if jti, _ := claims["jti"].(string); jti != "" {
		for k, until := range s.jtis {
			if now.After(until) {
				delete(s.jtis, k)
			}
		}
		if _, used := s.jtis[iss+" "+jti]; used {
			return nil, unauthorized, invalid, "The client_assertion token has already been used."
		}
		s.jtis[iss+" "+jti] = time.Unix(int64(exp), 0)
	}
	return app, 0, "", ""
}

// grantedScopes is what a client credentials token holds: the requested
// scopes in the app's grants, or why Okta refuses.
func grantedScopes(requested, granted []string) ([]string, int, string, string) {
	if len(requested) == 0 {
		return nil, http.StatusBadRequest, "invalid_scope", "No scopes were requested."
	}
	var out []string
	for _, sc := range requested {
		switch {
		case slices.Contains(scopesSupported, sc):
			return nil, http.StatusBadRequest, "invalid_scope", "Cannot request 'openid' scopes using client credentials."
		case !strings.HasPrefix(sc, "okta."):
			return nil, http.StatusBadRequest, "invalid_scope", "One or more scopes are not configured for the authorization server resource."
		case slices.Contains(granted, sc) && !slices.Contains(out, sc):
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, http.StatusBadRequest, "consent_required", "You are not allowed any of the requested scopes."
	}
	return out, 0, "", ""
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

func splitJWT(token string) (jwtHeader, map[string]any, string, []byte, error) {
	var h jwtHeader
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return h, nil, "", nil, errors.New("malformed JWT")
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return h, nil, "", nil, err
	}
	var claims map[string]any
	if err := errors.Join(json.Unmarshal(hb, &h), json.Unmarshal(pb, &claims)); err != nil {
		return h, nil, "", nil, err
	}
	return h, claims, parts[0] + "." + parts[1], sig, nil
}

func signatureHash(alg string) (crypto.Hash, bool) {
	switch alg {
	case "RS256":
		return crypto.SHA256, true
	case "RS384":
		return crypto.SHA384, true
	case "RS512":
		return crypto.SHA512, true
	}
	return 0, false
}

func verifiesWithAny(keys []PublicKey, h crypto.Hash, signed string, sig []byte) bool {
	var hh hash.Hash
	switch h {
	case crypto.SHA384:
		hh = sha512.New384()
	case crypto.SHA512:
		hh = sha512.New()
	default:
		hh = sha256.New()
	}
	hh.Write([]byte(signed))
	sum := hh.Sum(nil)
	for _, k := range keys {
		if rsa.VerifyPKCS1v15(k.Key, h, sum, sig) == nil {
			return true
		}
	}
	return false
}

// routeScopes is the OAuth scope each Management API route needs (the
// operations' security requirements in Okta's Management OpenAPI spec).
var routeScopes = map[string]string{
	"GET /api/v1/users":                          "okta.users.read",
	"GET /api/v1/users/{id}":                     "okta.users.read",
	"GET /api/v1/users/{id}/groups":              "okta.users.read",
	"DELETE /api/v1/users/{id}":                  "okta.users.manage",
	"POST /api/v1/users/{id}/lifecycle/{action}": "okta.users.manage",
	"GET /api/v1/groups":                         "okta.groups.read",
	"GET /api/v1/groups/{id}":                    "okta.groups.read",
	"GET /api/v1/groups/{id}/users":              "okta.groups.read",
	"PUT /api/v1/groups/{id}/users/{userId}":     "okta.groups.manage",
	"DELETE /api/v1/groups/{id}/users/{userId}":  "okta.groups.manage",
	"GET /api/v1/logs":                           "okta.logs.read",
}

// holdsScope says whether scopes allow what need allows: "the manage
// scopes can do everything that the read scopes do".
func holdsScope(scopes []string, need string) bool {
	if slices.Contains(scopes, need) {
		return true
	}
	resource, ok := strings.CutSuffix(need, ".read")
	return ok && slices.Contains(scopes, resource+".manage")
}

// authorizeAPI checks a Management API request's credential: the SSWS token,
// or a live Bearer access token holding the route's scope. It answers the
// refusal itself.
func (s *Server) authorizeAPI(w http.ResponseWriter, r *http.Request, pattern string) bool {
	auth := r.Header.Get("Authorization")
	if scheme, tok, ok := strings.Cut(auth, " "); ok && scheme == "SSWS" &&
		subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.APIToken)) == 1 {
		return true
	}
	raw, bearer := strings.CutPrefix(auth, "Bearer ")
	if !bearer {
		writeOktaError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
		return false
	}
	s.mu.Lock()
	iss := s.baseURLLocked(r)
	t := s.tokens[raw]
	live := t != nil && s.now().Before(t.expires)
	var scopes []string
	if live {
		scopes = t.scopes
	}
	s.mu.Unlock()
	need := routeScopes[pattern]
	challenge := func(errCode, description string) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(
			`Bearer authorization_uri="%s/oauth2/v1/authorize", realm="%s", scope="%s", error="%s", error_description="%s", resource="%s"`,
			iss, iss, need, errCode, description, r.URL.Path))
	}
	if !live {
		challenge("invalid_token", "The access token is invalid.")
		writeOktaError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
		return false
	}
	if need != "" && !holdsScope(scopes, need) {
		challenge("insufficient_scope", "The access token provided does not contain the required scopes.")
		writeOktaError(w, http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action")
		return false
	}
	return true
}
