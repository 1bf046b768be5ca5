package tailnetfake

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// oauthToken serves POST /api/v2/oauth/token: the OAuth 2.0 client
// credentials grant. The client ID and secret come as HTTP basic auth
// (form-encoded, as golang.org/x/oauth2 sends them) or as client_id and
// client_secret form fields. The access token it issues is accepted by the
// API as a bearer token (or basic auth username) for an hour, for the
// scopes it was issued with (see [OAuthClient]).
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid request body: "+err.Error())
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: form-encode before basic auth.
		if v, err := url.QueryUnescape(id); err == nil {
			id = v
		}
		if v, err := url.QueryUnescape(secret); err == nil {
			secret = v
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		writeError(w, http.StatusBadRequest, "unsupported grant_type "+`"`+gt+`"`)
		return
	}
	client, known := s.oauthClients[id]
	if id == "" || !known || subtle.ConstantTimeCompare([]byte(client.Secret), []byte(secret)) != 1 {
		writeError(w, http.StatusUnauthorized, "API token invalid")
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	if len(scopes) == 0 {
		scopes = slices.Clone(client.Scopes)
	}
	if missing := ungrantable(client.Scopes, scopes); len(missing) > 0 {
		writeError(w, http.StatusForbidden, fmt.Sprintf("OAuth client cannot grant scopes %q", strings.Join(missing, " ")))
		return
	}
	scope := strings.Join(scopes, " ")
	token := "tskey-api-" + randomHex(8) + "-" + randomHex(16)
	s.mu.Lock()
	s.tokens[token] = accessToken{clientID: id, scopes: scopes, expires: s.clock().Add(tokenLifetime)}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "Bearer",
		"expires_in":   int(tokenLifetime.Seconds()),
		"scope":        scope,
	})
}
