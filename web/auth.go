package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/accessportal/portal/grants"
)

// OIDCConfig configures sign-in against Okta's OpenID Connect.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// HTTPClient reaches the issuer; http.DefaultClient when nil.
	HTTPClient *http.Client
}

// oidcClient discovers the issuer lazily, so the portal starts even when
// Okta is briefly unreachable, and retries discovery on the next sign-in.
type oidcClient struct {
	cfg         OIDCConfig
	redirectURL string

	mu       sync.Mutex
	provider *oidc.Provider
}

func newOIDCClient(cfg OIDCConfig, baseURL string) *oidcClient {
	return &oidcClient{cfg: cfg, redirectURL: strings.TrimRight(baseURL, "/") + "/auth/callback"}
}

func (o *oidcClient) ctx(ctx context.Context) context.Context {
	if o.cfg.HTTPClient != nil {
		return oidc.ClientContext(ctx, o.cfg.HTTPClient)
	}
	return ctx
}

func (o *oidcClient) setup(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		dctx, cancel := context.WithTimeout(o.ctx(ctx), 10*time.Second)
		defer cancel()
		p, err := oidc.NewProvider(dctx, o.cfg.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("discovering OIDC issuer %s: %w", o.cfg.Issuer, err)
		}
		o.provider = p
	}
	conf := &oauth2.Config{
		ClientID:     o.cfg.ClientID,
		ClientSecret: o.cfg.ClientSecret,
		Endpoint:     o.provider.Endpoint(),
		RedirectURL:  o.redirectURL,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
	return conf, o.provider.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}), nil
}

// safeNext keeps only same-origin paths: "/x?y" yes; "//evil", "/\\evil",
// "https://evil" no.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.ContainsAny(next, "\r\n\t") {
		return "/"
	}
	return next
}

func randomString() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// contextKey keys the signed-in person in an echo.Context.
const (
	ctxPerson = "portal.person"
	ctxAdmin  = "portal.admin"
)

// isAdmin reports whether a person is in one of the catalog's admin groups.
func (s *Server) isAdmin(p *grants.Person) bool {
	return p.Active() && p.InAny(s.opts.Catalog().Admins)
}

// sessionPerson is the browser session's person, if any.
func (s *Server) sessionPerson(c echo.Context) (*grants.Person, bool, error) {
	if p, ok := c.Get(ctxPerson).(*grants.Person); ok {
		return p, c.Get(ctxAdmin).(bool), nil
	}
	if loaded, _ := c.Get(ctxSessionLoaded).(bool); !loaded {
		return nil, false, grants.ErrUnknownPerson
	}
	userID := s.sessions.GetString(c.Request().Context(), sessionUserIDKey)
	if userID == "" {
		return nil, false, grants.ErrUnknownPerson
	}
	p, err := s.store.Identify(c.Request().Context(), userID, "")
	if err != nil {
		return nil, false, err
	}
	if !p.Active() {
		return nil, false, fmt.Errorf("%s is %s in Okta", p.Email, p.Status)
	}
	admin := s.isAdmin(p)
	c.Set(ctxPerson, p)
	c.Set(ctxAdmin, admin)
	return p, admin, nil
}

// requirePerson authenticates API calls by bearer token or browser session,
// then applies the directory: unknown or not ACTIVE in Okta is 403.
func (s *Server) requirePerson(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		var email, userID string
		if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
			secret, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				return httpError(http.StatusUnauthorized, "Authorization must be \"Bearer TOKEN\"")
			}
			tok, err := s.store.AuthenticateToken(ctx, strings.TrimSpace(secret), s.now())
			if errors.Is(err, grants.ErrInvalidToken) {
				return httpError(http.StatusUnauthorized, err.Error())
			}
			if err != nil {
				return err
			}
			email, userID = tok.Email, tok.OktaUserID
		} else {
			userID = s.sessions.GetString(ctx, sessionUserIDKey)
			email = s.sessions.GetString(ctx, sessionEmailKey)
		}
		if email == "" && userID == "" {
			return httpError(http.StatusUnauthorized, "sign in or send Authorization: Bearer TOKEN")
		}
		p, err := s.store.Identify(ctx, userID, email)
		if errors.Is(err, grants.ErrUnknownPerson) {
			return httpError(http.StatusForbidden, email+" is not a user of the Okta directory")
		}
		if errors.Is(err, grants.ErrSharedLogin) {
			return httpError(http.StatusForbidden, err.Error())
		}
		if err != nil {
			return err
		}
		if !p.Active() {
			return httpError(http.StatusForbidden, p.Email+" is "+p.Status+" in Okta")
		}
		c.Set(ctxPerson, p)
		c.Set(ctxAdmin, s.isAdmin(p))
		return next(c)
	}
}

// person is the authenticated caller of an API handler behind requirePerson.
func person(c echo.Context) (*grants.Person, bool) {
	return c.Get(ctxPerson).(*grants.Person), c.Get(ctxAdmin).(bool)
}
