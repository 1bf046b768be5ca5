package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// catalogOktaGroups answers the live search of static/catalog.js: the
// choices of one picker (?field=, "okta" by default) for ?q=, keeping the
// groups chosen (?okta=, repeated), as HTML.
func (s *Server) catalogOktaGroups(c echo.Context) error {
	field := c.QueryParam("field")
	if field == "" {
		field = "okta"
	}
	if field != "okta" && !slices.Contains(catalogPickerFields, field) {
		return httpError(http.StatusBadRequest, "field must be okta, "+strings.Join(catalogPickerFields, ", "))
	}
	p := catalogPicker{Field: field, Q: c.QueryParam("q")}
	if err := s.catalogFillPicker(c.Request().Context(), &p, catalogLines(strings.Join(c.QueryParams()["okta"], "\n"))); err != nil {
		return err
	}
	var b strings.Builder
	if err := s.pages["catalog_group_form.html"].ExecuteTemplate(&b, "catalog-okta-choices", p); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTML(http.StatusOK, b.String())
}
