package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/accessportal/portal/grants"
)

// catalogRoutes adds the catalog API and the catalog pages under
// /admin/catalog. Every page works without JavaScript; static/catalog.js
// only makes the Okta group search live.
func (s *Server) catalogRoutes(e *echo.Echo, web, api *echo.Group) {
	api.GET("/catalog", s.apiGetCatalog, requireAdmin)
	// A whole catalog outgrows the API's 64 KiB: PUT has its own limit, so
	// it is registered outside the API group (same middleware otherwise).
	e.PUT("/api/v1/catalog", s.apiPutCatalog,
		middleware.BodyLimit("1M"), loadAndSaveSession(s.sessions), s.requirePerson, requireAdmin)

	admin := s.requireAdminPage
	web.GET("/admin/catalog", s.catalogPage, admin)
	web.GET("/admin/catalog/export", s.catalogExport, admin)
	web.GET("/admin/catalog/okta-groups", s.catalogOktaGroups, admin)
	web.GET("/admin/catalog/new-group", s.catalogGroupForm, admin)
	web.GET("/admin/catalog/groups/:group", s.catalogGroupMembers, admin)
	web.GET("/admin/catalog/groups/:group/edit", s.catalogGroupForm, admin)
	web.GET("/admin/catalog/groups/:group/remove", s.catalogRemoveForm, admin)
	web.GET("/admin/catalog/new-resource", s.catalogResourceForm, admin)
	web.GET("/admin/catalog/resources/:name", s.catalogResourceMembers, admin)
	web.GET("/admin/catalog/resources/:name/edit", s.catalogResourceForm, admin)
	web.POST("/admin/catalog/preview", s.catalogPreview, admin)
	web.POST("/admin/catalog/save", s.catalogSave, admin)
	web.POST("/admin/catalog/resources/:name/grants", s.catalogDirectGrant, admin)
	web.POST("/admin/catalog/grants/:id/revoke", s.revokeGrantForm, admin)
}

// catalogPage is the data of /admin/catalog.
type catalogPage struct {
	catalogHeader
	Admins    []string
	Groups    []catalogGroupRow
	KeepEmpty []catalogGroupRow
	Resources []catalogResourceRow
}

// catalogHeader is what every catalog page shows on top: where the catalog
// comes from, whether it can be edited here, its version and the flash.
type catalogHeader struct {
	// Title is the page's title.
	Title    string
	Source   string // grants.CatalogFromFile or grants.CatalogFromDatabase
	File     string // the PORTAL_CATALOG file in file mode
	Editable bool
	ETag     string
	Flash    string
	// LastChange is the newest catalog.replace audit event, when any.
	LastChange *grants.AuditEvent
}

// LastChangeAt formats when the catalog last changed.
func (h catalogHeader) LastChangeAt() string {
	if h.LastChange == nil {
		return ""
	}
	return catalogTime(h.LastChange.At)
}

// catalogGroupRow is one managed group of the overview.
type catalogGroupRow struct {
	Tailscale, Okta string
	// Version is the definition's version, for the forms that change it.
	Version string
	// Confirmed says whether the reconciler confirmed the group's members
	// in the policy; Applied is how many it confirmed.
	Confirmed bool
	Applied   int
}

// catalogResourceRow is one resource of the overview.
type catalogResourceRow struct {
	grants.Resource
	ActiveGrants int64
}

// Max and Default render the resource's durations.
func (r catalogResourceRow) Max() string { return grants.FormatDuration(r.MaxDuration) }

// Default renders the resource's default duration.
func (r catalogResourceRow) Default() string { return grants.FormatDuration(r.DefaultDuration) }

// catalogStore is the server's catalog store, or a 404 when it has none.
func (s *Server) catalogStore() (*grants.CatalogStore, error) {
	if s.opts.CatalogStore == nil {
		return nil, errNoCatalogStore
	}
	return s.opts.CatalogStore, nil
}

// catalogHeaderFor fills the header of a catalog page.
func (s *Server) catalogHeaderFor(c echo.Context, etag string) (catalogHeader, error) {
	st := s.opts.CatalogStore
	h := catalogHeader{Source: st.Source(), File: st.Path(), Editable: st.Source() == grants.CatalogFromDatabase, ETag: etag}
	h.Flash = s.popFlash(c)
	var err error
	h.LastChange, err = s.store.LastAuditEvent(c.Request().Context(), "catalog.replace")
	return h, err
}

// catalogActiveGrants counts the active grants of each resource.
func (s *Server) catalogActiveGrants(ctx context.Context) (map[string]int64, error) {
	rows, err := s.store.ActiveGrantCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Resource] = r.Active
	}
	return out, nil
}

// catalogOktaChoice is one Okta group offered by the group search.
type catalogOktaChoice struct {
	ID, Name, Description string
	Selected              bool
}

// catalogMaxOktaChoices bounds the answers of one Okta group search.
const catalogMaxOktaChoices = 25

// catalogSearchOktaGroups finds the directory snapshot's Okta groups whose name
// contains q (case-insensitive), by name. The selected group is always
// offered, first, so that a search never loses the choice made.
func (s *Server) catalogSearchOktaGroups(ctx context.Context, q, selected string) ([]catalogOktaChoice, error) {
	groups, err := s.store.SearchDirectoryGroups(ctx, strings.TrimSpace(q), catalogMaxOktaChoices)
	if err != nil {
		return nil, err
	}
	var out []catalogOktaChoice
	if selected != "" {
		choice := catalogOktaChoice{Name: selected, Selected: true}
		g, err := s.store.DirectoryGroupByName(ctx, selected)
		if err != nil {
			return nil, err
		}
		choice.ID, choice.Description = g.ID, g.Description
		out = append(out, choice)
	}
	for _, g := range groups {
		if g.Name != selected {
			out = append(out, catalogOktaChoice{ID: g.ID, Name: g.Name, Description: g.Description})
		}
	}
	return out, nil
}

// catalogTime renders a time the way the catalog pages show times.
func catalogTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// catalogRequireEditable refuses edits of a catalog managed in a file: 409,
// as the API answers.
func (s *Server) catalogRequireEditable() (*grants.CatalogStore, error) {
	st, err := s.catalogStore()
	if err != nil {
		return nil, err
	}
	if st.Source() == grants.CatalogFromFile {
		return nil, httpError(http.StatusConflict, "The catalog is managed in FILE "+st.Path()+" (PORTAL_CATALOG): edit the file and restart the portal. Nothing was changed here.")
	}
	return st, nil
}

// catalogAdmin is the signed-in admin of a catalog page.
func (s *Server) catalogAdmin(c echo.Context) (*grants.Person, error) {
	p, _, err := s.sessionPerson(c)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// errCatalogNotFound is a 404 page for a definition the catalog lacks.
func errCatalogNotFound(what string) error {
	return httpError(http.StatusNotFound, what+" is not in the catalog")
}

// catalogContains is slices.Contains for templates' helpers.
func catalogContains(list []string, s string) bool { return slices.Contains(list, s) }
