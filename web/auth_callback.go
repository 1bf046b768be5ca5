package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/accessportal/portal/grants"
)

// authCallback finishes sign-in and returns to the page first asked for.
func (s *Server) authCallback(c echo.Context) error {
	if s.oidc == nil {
		return httpError(http.StatusNotFound, "sign-in is not configured")
	}
	ctx := c.Request().Context()
	st, stErr := s.takeLoginState(c.Response(), c.Request())
	nonce, verifier, next := st.Nonce, st.Verifier, safeNext(st.Next)
	if e := c.QueryParam("error"); e != "" {
		return httpError(http.StatusUnauthorized, "sign-in failed: "+e+": "+c.QueryParam("error_description"))
	}
	if stErr != nil || st.State == "" || c.QueryParam("state") != st.State {
		return httpError(http.StatusBadRequest, "this sign-in link is stale or was not started here; start again from the sign-in button")
	}
	conf, verifierOIDC, err := s.oidc.setup(ctx)
	if err != nil {
		return &echo.HTTPError{Code: http.StatusBadGateway, Message: "cannot reach the sign-in provider; try again shortly", Internal: err}
	}
	octx, cancel := context.WithTimeout(s.oidc.ctx(ctx), 15*time.Second)
	defer cancel()
	tok, err := conf.Exchange(octx, c.QueryParam("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return &echo.HTTPError{Code: http.StatusUnauthorized, Message: "sign-in failed: the provider refused the code", Internal: err}
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifierOIDC.Verify(octx, raw)
	if err != nil {
		return &echo.HTTPError{Code: http.StatusUnauthorized, Message: "sign-in failed: invalid ID token", Internal: err}
	}
	if idt.Nonce != nonce {
		return httpError(http.StatusUnauthorized, "sign-in failed: the ID token does not belong to this sign-in")
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Email == "" {
		return httpError(http.StatusUnauthorized, "sign-in failed: the ID token carries no email")
	}
	email := strings.ToLower(claims.Email)
	// A person is their Okta user id (the ID token's subject), never an
	// email that another Okta user's profile could also carry.
	p, err := s.store.Identify(ctx, idt.Subject, "")
	if errors.Is(err, grants.ErrUnknownPerson) {
		return s.render(c, http.StatusForbidden, "refused.html", errorPage{Message: email + " is not in the portal's copy of the Okta directory yet."})
	}
	if errors.Is(err, grants.ErrSharedLogin) {
		return s.render(c, http.StatusForbidden, "refused.html", errorPage{Message: "Sign-in refused: " + err.Error() + "."})
	}
	if err != nil {
		return err
	}
	if !p.Active() {
		return s.render(c, http.StatusForbidden, "refused.html", errorPage{Message: email + " is " + p.Status + " in Okta."})
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	email = p.Email
	s.sessions.Put(ctx, sessionEmailKey, email)
	s.sessions.Put(ctx, sessionUserIDKey, p.ID)
	slog.InfoContext(ctx, "signed in", "email", email, "okta_user_id", p.ID)
	return c.Redirect(http.StatusSeeOther, next)
}
