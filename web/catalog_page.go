package web

import (
	"maps"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
)

// catalogPage shows every definition of the catalog: editable in database
// mode, read-only with "managed in FILE" in file mode.
func (s *Server) catalogPage(c echo.Context) error {
	if _, err := s.catalogStore(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	cat, etag, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	page := catalogPage{Admins: cat.Admins}
	if page.catalogHeader, err = s.catalogHeaderFor(c, etag); err != nil {
		return err
	}
	page.Title = "Catalog"
	applied, err := s.store.AppliedGroups(ctx)
	if err != nil {
		return err
	}
	row := func(group, okta string) catalogGroupRow {
		a, ok := applied[group]
		return catalogGroupRow{Tailscale: group, Okta: okta, Version: cat.Version(editGroup, group), Confirmed: ok, Applied: len(a.Members)}
	}
	for _, g := range slices.Sorted(maps.Keys(cat.Groups)) {
		page.Groups = append(page.Groups, row(g, cat.Groups[g]))
	}
	for _, g := range cat.KeepEmpty {
		page.KeepEmpty = append(page.KeepEmpty, row(g, ""))
	}
	active, err := s.catalogActiveGrants(ctx)
	if err != nil {
		return err
	}
	for _, name := range cat.ResourceNames() {
		page.Resources = append(page.Resources, catalogResourceRow{Resource: cat.Resources[name], ActiveGrants: active[name]})
	}
	return s.render(c, http.StatusOK, "catalog_overview.html", page)
}
