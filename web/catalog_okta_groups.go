package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// catalogOktaGroups answers the live search of static/catalog.js: the
// choice list of the group form, as HTML.
func (s *Server) catalogOktaGroups(c echo.Context) error {
	choices, err := s.catalogSearchOktaGroups(c.Request().Context(), c.QueryParam("q"), c.QueryParam("okta"))
	if err != nil {
		return err
	}
	var b strings.Builder
	page := catalogFormPage{Choices: choices, Edit: catalogEdit{Q: c.QueryParam("q"), Okta: c.QueryParam("okta")}}
	if err := s.pages["catalog_group_form.html"].ExecuteTemplate(&b, "catalog-okta-choices", page); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTML(http.StatusOK, b.String())
}
