package web

import (
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"
)

// login starts sign-in: PKCE, state and nonce kept in the session.
func (s *Server) login(c echo.Context) error {
	if s.oidc == nil {
		return httpError(http.StatusNotFound, "sign-in is not configured")
	}
	conf, _, err := s.oidc.setup(c.Request().Context())
	if err != nil {
		return &echo.HTTPError{Code: http.StatusBadGateway, Message: "cannot reach the sign-in provider; try again shortly", Internal: err}
	}
	ctx := c.Request().Context()
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	s.sessions.Put(ctx, sessionOIDCState, state)
	s.sessions.Put(ctx, sessionOIDCNonce, nonce)
	s.sessions.Put(ctx, sessionOIDCVerifier, verifier)
	s.sessions.Put(ctx, sessionOIDCNext, safeNext(c.QueryParam("next")))
	return c.Redirect(http.StatusFound, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}
