package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// loginStateCookie carries a sign-in in progress (state, nonce, PKCE
// verifier, the page to return to) from /login to /auth/callback, signed,
// so that an anonymous /login stores nothing on the server.
const loginStateCookie = "portal_login"

// loginStateTTL is how long a sign-in may take.
const loginStateTTL = 10 * time.Minute

// loginState is a sign-in in progress.
type loginState struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"x"`
	Expires  time.Time `json:"e"`
}

// loginStateKey signs login state cookies. It is derived from the OIDC
// client secret, which every replica has and no browser sees, so that a
// sign-in started on one replica finishes on any other.
func (o *oidcClient) loginStateKey() []byte {
	m := hmac.New(sha256.New, []byte(o.cfg.ClientSecret))
	m.Write([]byte("portal login state cookie v1"))
	return m.Sum(nil)
}

// setLoginState writes the signed cookie of a sign-in in progress.
func (s *Server) setLoginState(w http.ResponseWriter, st loginState) {
	b, _ := json.Marshal(st)
	payload := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: loginStateCookie, Value: payload + "." + s.signLoginState(payload), Path: "/auth/callback",
		MaxAge: int(loginStateTTL / time.Second), HttpOnly: true, Secure: strings.HasPrefix(s.opts.BaseURL, "https://"),
		SameSite: http.SameSiteLaxMode,
	})
}

// takeLoginState reads and clears the sign-in in progress; it fails when
// there is none, it was not signed here, or it is older than loginStateTTL.
func (s *Server) takeLoginState(w http.ResponseWriter, r *http.Request) (loginState, error) {
	var st loginState
	http.SetCookie(w, &http.Cookie{Name: loginStateCookie, Path: "/auth/callback", MaxAge: -1, HttpOnly: true,
		Secure: strings.HasPrefix(s.opts.BaseURL, "https://"), SameSite: http.SameSiteLaxMode})
	c, err := r.Cookie(loginStateCookie)
	if err != nil {
		return st, errors.New("no sign-in in progress")
	}
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.signLoginState(payload))) {
		return st, errors.New("sign-in state not signed by this portal")
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &st) != nil {
		return st, errors.New("malformed sign-in state")
	}
	if !s.now().Before(st.Expires) {
		return st, errors.New("sign-in state expired")
	}
	return st, nil
}

func (s *Server) signLoginState(payload string) string {
	m := hmac.New(sha256.New, s.oidc.loginStateKey())
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
