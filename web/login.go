package web

import (
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"
)

// login starts sign-in: PKCE, state and nonce kept in a signed cookie.
func (s *Server) login(c echo.Context) error {
	if s.oidc == nil {
		return httpError(http.StatusNotFound, "sign-in is not configured")
	}
	conf, _, err := s.oidc.setup(c.Request().Context())
	if err != nil {
		return &echo.HTTPError{Code: http.StatusBadGateway, Message: "cannot reach the sign-in provider; try again shortly", Internal: err}
	}
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	// Kept in a signed cookie, not the session: an anonymous /login
	// stores nothing on the server.
	s.setLoginState(c.Response(), loginState{State: state, Nonce: nonce, Verifier: verifier,
		Next: safeNext(c.QueryParam("next")), Expires: s.now().Add(loginStateTTL)})
	return c.Redirect(http.StatusFound, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}
