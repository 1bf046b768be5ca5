package web

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/static"
	"github.com/accessportal/portal/sync/pagerduty"
	"github.com/accessportal/portal/sync/reconcile"
)

//go:embed templates/*.html
var templateFS embed.FS

// Options configure the web server.
type Options struct {
	DB *database.DB
	// BaseURL is the public URL of the portal, e.g. https://access.example.com.
	BaseURL string
	// Catalog returns the catalog in use.
	Catalog func() *grants.Catalog
	// CatalogSource says where the catalog comes from ("file" or "database").
	CatalogSource func() string
	// OIDC configures browser sign-in; nil disables it.
	OIDC *OIDCConfig
	// Clock returns the current time; time.Now when nil.
	Clock func() time.Time
	// Registry receives the portal's metrics; a new one when nil.
	Registry *prometheus.Registry
	// OktaHookSecret is the exact Authorization header Okta event hooks carry;
	// empty refuses every delivery.
	OktaHookSecret string
	// OnOktaEvents is called after new Okta events were stored.
	OnOktaEvents func()
	// Wake asks the reconciler for a pass now.
	Wake func()
	// CatalogStore holds the catalog for GET/PUT /api/v1/catalog and the
	// catalog pages (/admin/catalog); nil disables editing and serves
	// Catalog read-only.
	CatalogStore *grants.CatalogStore
	// PreviewCatalog computes the tailnet policy change a proposed catalog
	// would cause (the reconciler's PlanFor); nil disables the preview.
	PreviewCatalog func(ctx context.Context, c *grants.Catalog) (*reconcile.Plan, error)
	// OktaAdminURL is the Okta org URL whose /admin/group/{id} pages manage
	// a group (OKTA_ORG_URL); empty hides the links.
	OktaAdminURL string
	// StartedAt is when the process started; /readyz wants a reconcile since then.
	StartedAt time.Time
	// Policy returns the current tailnet policy file (HuJSON text), for the
	// approvers' preview of what a grant puts into the tailnet; nil means
	// the preview is unavailable.
	Policy func(ctx context.Context) ([]byte, error)
	// OnCall answers the catalog's onCall rules (PagerDuty); nil: nobody is
	// approved by on-call and such requests say why they wait.
	OnCall grants.OnCallChecker
	// CheckSchedules returns the PagerDuty schedule ids PagerDuty does not
	// know; a catalog naming one is refused. An error (PagerDuty cannot be
	// asked) only warns. nil skips the check.
	CheckSchedules func(ctx context.Context, ids []string) (unknown []string, err error)
	// PagerDutyStatus is PagerDuty's state for the dashboard; nil when
	// PagerDuty is not configured.
	PagerDutyStatus func() pagerduty.Status
	// TailscaleWebhookSecret verifies deliveries to /hooks/tailscale
	// (TAILSCALE_WEBHOOK_SECRET); empty refuses every delivery.
	TailscaleWebhookSecret string
	// OnPolicyUpdate is called for every authentic policyUpdate event, with
	// who changed the policy ("" when the event does not say): the
	// reconciler's RefreshBy.
	OnPolicyUpdate func(actor string)
	// Evidence writes evidence packets for GET /api/v1/evidence and the
	// dashboard's download; nil answers 404.
	Evidence EvidenceWriter
	// Integrations says on the dashboard when Okta refuses the credential,
	// a Tailscale scope is missing, or someone with access has no tailnet
	// user; nil shows nothing.
	Integrations IntegrationCheck
	// Slack is the Slack app answering POST /slack/commands and
	// /slack/interactions; nil answers them 404.
	Slack *SlackApp
}

// Server serves the portal.
type Server struct {
	opts     Options
	store    *grants.Store
	now      func() time.Time
	sessions *scs.SessionManager
	echo     *echo.Echo
	pages    map[string]*template.Template
	assets   map[string]string // "style.css" -> "style.3f2a1b.css"
	oidc     *oidcClient
	metrics  *httpMetrics
}

// New builds the server and its routes.
func New(opts Options) (*Server, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.StartedAt.IsZero() {
		opts.StartedAt = opts.Clock()
	}
	if opts.CatalogStore != nil && opts.Catalog == nil {
		opts.Catalog, opts.CatalogSource = opts.CatalogStore.Current, opts.CatalogStore.Source
	}
	if opts.Catalog == nil {
		empty := &grants.Catalog{}
		opts.Catalog = func() *grants.Catalog { return empty }
	}
	s := &Server{
		opts:  opts,
		store: grants.NewStore(opts.DB).WithOnCall(opts.OnCall),
		now:   opts.Clock,
	}
	s.sessions = newSessionManager(s.store.Sessions(opts.Clock), strings.HasPrefix(opts.BaseURL, "https://"))
	if err := s.loadAssets(); err != nil {
		return nil, err
	}
	if err := s.loadTemplates(); err != nil {
		return nil, err
	}
	if opts.OIDC != nil {
		s.oidc = newOIDCClient(*opts.OIDC, opts.BaseURL)
	}
	s.metrics = newHTTPMetrics(opts.Registry)
	s.echo = s.routes()
	return s, nil
}

// Handler returns the HTTP handler, with cross-origin protection for every
// state-changing request.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	return s.sameScheme(cop.Handler(s.echo))
}

// Sessions returns the session manager (used by tests and offboarding).
func (s *Server) Sessions() *scs.SessionManager { return s.sessions }

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestID())
	e.Use(s.metrics.middleware)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true}))
	e.Use(securityHeaders)
	e.Use(s.answerRules)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{})))
	e.GET("/static/:name", s.staticAsset)
	e.GET("/hooks/okta", s.oktaHookVerify)
	e.POST("/hooks/okta", s.oktaHookDeliver)
	e.POST("/hooks/tailscale", s.tailscaleHook)
	e.POST("/slack/commands", s.slackCommand)
	e.POST("/slack/interactions", s.slackInteraction)

	// Pages and the API take small bodies; /hooks/okta has its own limit.
	limit := middleware.BodyLimit("64K")
	web := e.Group("", limit, loadAndSaveSession(s.sessions))
	web.GET("/", s.myAccess)
	web.GET("/login", s.login)
	web.GET("/auth/callback", s.authCallback)
	web.POST("/logout", s.logout)
	web.GET("/admin", s.adminDashboard, s.requireAdminPage)
	web.POST("/admin/sync", s.adminSyncNow, s.requireAdminPage)
	web.POST("/admin/sync/confirm", s.adminConfirmHold, s.requireAdminPage)
	web.GET("/admin/access", s.adminAccess, s.requireAdminPage)
	web.POST("/admin/grants/:id/revoke", s.revokeGrantForm, s.requireAdminPage)
	web.GET("/admin/requests", s.adminRequests, s.requireAdminPage)
	web.GET("/admin/offboarding", s.adminOffboarding, s.requireAdminPage)
	web.GET("/admin/audit", s.adminAudit, s.requireAdminPage)
	web.GET("/admin/audit/export", s.adminAuditExport, s.requireAdminPage)
	web.GET("/admin/evidence", s.adminEvidence, s.requireAdminPage)
	web.GET("/admin/tokens", s.adminTokens, s.requireAdminPage)
	web.GET("/tokens", s.tokensMine, s.requirePagePerson)
	web.POST("/tokens", s.tokensCreate, s.requirePagePerson)
	web.POST("/tokens/:id/revoke", s.tokensRevoke, s.requirePagePerson)
	web.GET("/resources", s.resourcesPage, s.requirePagePerson)
	web.GET("/resources/:name/request", s.requestForm, s.requirePagePerson)
	web.POST("/resources/:name/request", s.submitRequest, s.requirePagePerson)
	web.GET("/requests", s.myRequestsPage, s.requirePagePerson)
	web.GET("/requests/:id", s.requestPage, s.requirePagePerson)
	web.POST("/requests/:id/cancel", s.cancelRequestForm, s.requirePagePerson)
	web.POST("/requests/:id/approve", s.approveRequestForm, s.requirePagePerson)
	web.POST("/requests/:id/deny", s.denyRequestForm, s.requirePagePerson)
	web.GET("/approvals", s.inboxPage, s.requirePagePerson)
	web.GET("/grants/:id", s.grantPage, s.requirePagePerson)
	web.POST("/grants/:id/relinquish", s.relinquishGrantForm, s.requirePagePerson)
	web.POST("/grants/:id/extend", s.extendGrantForm, s.requirePagePerson)

	api := e.Group("/api/v1", limit, loadAndSaveSession(s.sessions), s.requirePerson, jsonBodies)
	api.GET("/me", s.apiMe)
	api.POST("/sync", s.apiSyncNow, requireAdmin)
	api.GET("/sync/status", s.apiSyncStatus, requireAdmin)
	api.POST("/sync/confirm", s.apiSyncConfirm, requireAdmin)
	api.GET("/resources", s.apiResources)
	api.GET("/requests", s.apiListRequests)
	api.POST("/requests", s.apiCreateRequest)
	api.GET("/requests/:id", s.apiGetRequest)
	api.POST("/requests/:id/approve", s.apiApproveRequest)
	api.POST("/requests/:id/deny", s.apiDenyRequest)
	api.POST("/requests/:id/cancel", s.apiCancelRequest)
	api.GET("/grants", s.apiListGrants)
	api.POST("/grants", s.apiCreateGrant, requireAdmin)
	api.POST("/grants/:id/revoke", s.apiRevokeGrant)
	api.POST("/grants/:id/extend", s.apiExtendGrant)
	api.GET("/audit", s.apiAudit, requireAdmin)
	api.GET("/audit/export", s.apiAuditExport, requireAdmin)
	api.GET("/evidence", s.apiEvidence, requireAdmin)
	s.catalogRoutes(e, web, api)
	api.Any("/*", func(c echo.Context) error { return httpError(http.StatusNotFound, "no such API route") })
	return e
}

// securityHeaders sets a strict Content-Security-Policy and friends.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		return next(c)
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database answers and a reconcile based on a
// complete directory read has succeeded (on any replica) since this process
// started.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.store.DB().Ping(ctx); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unreachable: " + err.Error()})
	}
	st, err := s.store.SyncStatus(ctx)
	if err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": err.Error()})
	}
	if st.LastCompleteAt == nil || st.LastCompleteAt.Before(s.opts.StartedAt.Add(-time.Second)) {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "waiting for the first successful reconcile after a complete Okta read"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// loadAssets fingerprints every static file so that pages can link to
// cache-busted names that are cached forever.
func (s *Server) loadAssets() error {
	s.assets = map[string]string{}
	return fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static.FS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(p)
		s.assets[p] = strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		return nil
	})
}

// staticAsset serves a fingerprinted asset with a year-long cache; an
// unfingerprinted or stale name is a 404.
func (s *Server) staticAsset(c echo.Context) error {
	name := c.Param("name")
	for orig, hashed := range s.assets {
		if hashed == name {
			c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			return echo.StaticFileHandler(orig, static.FS)(c)
		}
	}
	return httpError(http.StatusNotFound, "no such file")
}

func (s *Server) assetURL(name string) (string, error) {
	hashed, ok := s.assets[name]
	if !ok {
		return "", fmt.Errorf("unknown asset %q", name)
	}
	return "/static/" + hashed, nil
}

func (s *Server) loadTemplates() error {
	funcs := template.FuncMap{"asset": s.assetURL, "when": when, "adminTabs": adminTabs, "isAdminPath": isAdminPath}
	entries, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	// Every page is the layout, the shared parts (*_parts.html) and its
	// own file: one template per page.
	parts, err := fs.Glob(templateFS, "templates/*_parts.html")
	if err != nil {
		return err
	}
	s.pages = map[string]*template.Template{}
	for _, p := range entries {
		name := path.Base(p)
		if name == "layout.html" || slices.Contains(parts, p) {
			continue
		}
		files := slices.Concat([]string{"templates/layout.html"}, parts, []string{p})
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return fmt.Errorf("parsing template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

// pageData is what every page template receives.
type pageData struct {
	Person *grants.Person
	Admin  bool
	Path   string
	Page   any
	// Awaiting counts the requests waiting for the person's decision (the
	// navigation shows it), up to navAwaitingShown; AwaitingMore says that
	// more are waiting.
	Awaiting     int64
	AwaitingMore bool
}

// render executes a page inside the layout. It buffers, so a template error
// becomes a clean 500 rather than half a page.
func (s *Server) render(c echo.Context, code int, name string, page any) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("no template %s", name)
	}
	data := pageData{Path: c.Request().URL.Path, Page: page}
	if p, admin, err := s.sessionPerson(c); err == nil {
		data.Person, data.Admin = p, admin
		data.Awaiting, data.AwaitingMore = s.awaitingCount(c, p)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		slog.ErrorContext(c.Request().Context(), "rendering page", "template", name, "err", err)
		return c.String(http.StatusInternalServerError, "internal error rendering the page")
	}
	return c.HTML(code, b.String())
}
