package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// relinquishGrantForm ends an active grant now: the grantee giving it up
// (or an admin revoking it), with an optional reason.
func (s *Server) relinquishGrantForm(c echo.Context) error {
	p, _ := s.pagePerson(c)
	id, err := idParam(c, "grant")
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	g, err := s.store.RevokeGrant(c.Request().Context(), s.opts.Catalog(), id, p, reason, s.now())
	if err != nil {
		code, msg, ok := clientError(err)
		if !ok || code == http.StatusNotFound {
			return err
		}
		return s.showGrant(c, code, msg, reason)
	}
	s.wake()
	if g.UserEmail == p.Email {
		s.flash(c, fmt.Sprintf("You gave up %s (grant #%d); the tailnet drops you from %s within seconds.", g.Resource, g.ID, g.GroupName))
	} else {
		s.flash(c, fmt.Sprintf("Grant #%d of %s to %s was revoked.", g.ID, g.Resource, g.UserEmail))
	}
	return localRedirect(c, c.FormValue("next"), "/grants/"+strconv.FormatInt(g.ID, 10))
}
