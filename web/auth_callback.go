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
	state := s.sessions.PopString(ctx, sessionOIDCState)
	nonce := s.sessions.PopString(ctx, sessionOIDCNonce)
	verifier := s.sessions.PopString(ctx, sessionOIDCVerifier)
	next := safeNext(s.sessions.PopString(ctx, sessionOIDCNext))
	if e := c.QueryParam("error"); e != "" {
		return httpError(http.StatusUnauthorized, "sign-in failed: "+e+": "+c.QueryParam("error_description"))
	}
	if state == "" || c.QueryParam("state") != state {
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
	p, err := s.store.LookupPerson(ctx, email)
	if errors.Is(err, grants.ErrUnknownPerson) {
		return s.render(c, http.StatusForbidden, "refused.html", errorPage{Message: email + " is not in the portal's copy of the Okta directory yet."})
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
	s.sessions.Put(ctx, sessionEmailKey, email)
	slog.InfoContext(ctx, "signed in", "email", email)
	return c.Redirect(http.StatusSeeOther, next)
}
