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
	web.GET("/admin/catalog/admins/edit", s.catalogAdminsForm, admin)
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

// catalogOktaChoice is one Okta group a picker offers.
type catalogOktaChoice struct {
	ID, Name, Description string
	Selected              bool
}

// catalogMaxOktaChoices bounds the answers of one Okta group search.
const catalogMaxOktaChoices = 25

// catalogPicker is one directory picker: the Okta groups chosen, then those
// a search of the directory snapshot found. Every Okta group field of the
// catalog forms is one: the synced group's (one choice) and a resource's
// lists (several).
type catalogPicker struct {
	// Field is the form field the choices set: "okta", or a resource's
	// "eligible", "approvers", "autoApprove".
	Field, Label, Hint string
	// Q is the search; Searched says a search was made (its answer may be
	// empty).
	Q        string
	Searched bool
	Choices  []catalogOktaChoice
	// FormURL is the form's page, which the Search button submits to
	// without JavaScript.
	FormURL string
	// Unread says no poll has read the Okta directory yet.
	Unread bool
	Error  string
}

// Multi says whether several groups may be chosen.
func (p catalogPicker) Multi() bool { return p.Field != "okta" }

// SearchField is the form field of the picker's search box.
func (p catalogPicker) SearchField() string {
	if p.Multi() {
		return "q-" + p.Field
	}
	return "q"
}

// BoxID is the id of the element holding the choices.
func (p catalogPicker) BoxID() string {
	if p.Multi() {
		return "okta-choices-" + p.Field
	}
	return "okta-choices"
}

// Found says whether the search found a group not chosen yet.
func (p catalogPicker) Found() bool {
	for _, c := range p.Choices {
		if !c.Selected {
			return true
		}
	}
	return false
}

// catalogFillPicker offers p's chosen groups (always, first, so that a
// search never loses a choice) and the directory snapshot's groups whose
// name contains p.Q (case-insensitive), by name. A list picker searches
// only when asked; the synced group's lists the directory at once.
func (s *Server) catalogFillPicker(ctx context.Context, p *catalogPicker, chosen []string) error {
	for _, name := range chosen {
		g, err := s.store.DirectoryGroupByName(ctx, name)
		if err != nil {
			return err
		}
		p.Choices = append(p.Choices, catalogOktaChoice{ID: g.ID, Name: name, Description: g.Description, Selected: true})
	}
	p.Q = strings.TrimSpace(p.Q)
	if p.Multi() && p.Q == "" {
		return nil
	}
	p.Searched = true
	groups, err := s.store.SearchDirectoryGroups(ctx, p.Q, catalogMaxOktaChoices)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if !slices.Contains(chosen, g.Name) {
			p.Choices = append(p.Choices, catalogOktaChoice{ID: g.ID, Name: g.Name, Description: g.Description})
		}
	}
	if len(groups) == 0 {
		complete, err := s.store.DirectoryComplete(ctx)
		if err != nil {
			return err
		}
		p.Unread = !complete
	}
	return nil
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
