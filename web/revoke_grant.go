package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// revokeGrantForm ends a grant from an admin page (the access page or a
// resource's catalog page), audited with the reason the grantee is told,
// and returns to the page it came from with a flash saying what happened.
func (s *Server) revokeGrantForm(c echo.Context) error {
	id, err := idParam(c, "grant")
	if err != nil {
		return err
	}
	back, err := s.revokeReturn(c, id)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	if reason == "" {
		s.flash(c, fmt.Sprintf("Grant %d was not revoked: give a reason (it is audited and sent to the grantee).", id))
		return c.Redirect(http.StatusSeeOther, back)
	}
	p, _, err := s.sessionPerson(c)
	if err != nil {
		return err
	}
	g, err := s.store.RevokeGrant(c.Request().Context(), s.opts.Catalog(), id, p, reason, s.now())
	if _, msg, refused := clientError(err); refused {
		s.flash(c, fmt.Sprintf("Grant %d not revoked: %s.", id, msg))
		return c.Redirect(http.StatusSeeOther, back)
	}
	if err != nil {
		return err
	}
	s.wake()
	s.flash(c, fmt.Sprintf("Grant %d revoked: %s loses %s; the next reconcile removes them from %s.", g.ID, g.UserEmail, g.Resource, g.GroupName))
	return c.Redirect(http.StatusSeeOther, back)
}

// revokeReturn is the page a revoke form returns to: from the catalog, the
// grant's resource page (the catalog when the resource left it); from the
// access page, back when it is an admin page.
func (s *Server) revokeReturn(c echo.Context, id int64) (string, error) {
	if !strings.HasPrefix(c.Path(), "/admin/catalog/") {
		return adminBack(c.FormValue("back"), "/admin/access"), nil
	}
	g, err := s.store.GetGrant(c.Request().Context(), id)
	if err != nil {
		return "", err
	}
	if _, ok := s.opts.Catalog().Resources[g.Resource]; !ok {
		return "/admin/catalog", nil
	}
	return "/admin/catalog/resources/" + g.Resource, nil
}
