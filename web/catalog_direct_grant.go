package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// catalogDirectGrant gives a person a resource directly: an admin grant
// (grants.DirectGrant: audited, a reason, the resource's maximum, never for
// oneself). A retired resource takes no new grants. Works in both catalog
// modes: grants are not part of the catalog.
func (s *Server) catalogDirectGrant(c echo.Context) error {
	if _, err := s.catalogStore(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.catalogAdmin(c)
	if err != nil {
		return err
	}
	cat, _, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	name := c.Param("name")
	r, ok := cat.Resources[name]
	if !ok {
		return errCatalogNotFound("Resource " + name)
	}
	form := catalogGrantForm{User: strings.TrimSpace(c.FormValue("user")), Duration: strings.TrimSpace(c.FormValue("duration")), Reason: c.FormValue("reason")}
	if r.Retired {
		return s.renderCatalogResource(c, http.StatusConflict, form, name+" is retired: it takes no new grants (restore it first)")
	}
	d, err := parseDuration(form.Duration)
	if err == nil {
		var g *grants.Grant
		g, err = s.store.DirectGrant(ctx, cat, p, grants.DirectGrantInput{Resource: name, User: form.User, Duration: d, Reason: form.Reason}, s.now())
		if err == nil {
			s.wake()
			s.flash(c, fmt.Sprintf("%s holds %s until %s (admin grant %d, audited). The reconciler adds them to %s now.",
				g.UserEmail, name, catalogTime(g.ExpiresAt), g.ID, g.GroupName))
			return c.Redirect(http.StatusSeeOther, "/admin/catalog/resources/"+name)
		}
	}
	if code, msg, ok := clientError(err); ok {
		return s.renderCatalogResource(c, code, form, msg)
	}
	return err
}
