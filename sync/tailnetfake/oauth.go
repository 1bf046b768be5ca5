package tailnetfake

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// oauthToken serves POST /api/v2/oauth/token: the OAuth 2.0 client
// credentials grant. The client ID and secret come as HTTP basic auth
// (form-encoded, as golang.org/x/oauth2 sends them) or as client_id and
// client_secret form fields. The access token it issues is accepted by the
// API as a bearer token (or basic auth username) for an hour.
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
	want, known := s.oauthClients[id]
	if id == "" || !known || subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		writeError(w, http.StatusUnauthorized, "API token invalid")
		return
	}
	scope := strings.Join(strings.Fields(r.PostForm.Get("scope")), " ")
	if scope == "" {
		scope = "all"
	}
	token := "tskey-api-" + randomHex(8) + "-" + randomHex(16)
	s.mu.Lock()
	s.tokens[token] = accessToken{clientID: id, scope: scope, expires: s.clock().Add(tokenLifetime)}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "Bearer",
		"expires_in":   int(tokenLifetime.Seconds()),
		"scope":        scope,
	})
}
