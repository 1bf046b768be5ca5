package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// grantPageData is the data of one grant's page.
type grantPageData struct {
	Flash string
	// Error is why the last relinquish was refused; Reason what was typed.
	Error       string
	Reason      string
	Grant       grantView
	Description string
	// Own says whether the grant is the signed-in person's.
	Own bool
}

// grantPage shows a grant to its grantee and the admins; others get 404,
// as for a grant that does not exist.
func (s *Server) grantPage(c echo.Context) error {
	return s.showGrant(c, http.StatusOK, "", "")
}

func (s *Server) showGrant(c echo.Context, code int, errMsg, reason string) error {
	p, admin := s.pagePerson(c)
	id, err := idParam(c, "grant")
	if err != nil {
		return err
	}
	g, err := s.store.GetGrant(c.Request().Context(), id)
	if err != nil {
		return err
	}
	own := g.UserEmail == p.Email
	if !own && !admin {
		return httpError(http.StatusNotFound, "no grant "+strconv.FormatInt(id, 10))
	}
	page := grantPageData{Flash: s.popFlash(c), Error: errMsg, Reason: reason, Grant: s.newGrantView(g), Own: own}
	if res, ok := s.opts.Catalog().Resources[g.Resource]; ok {
		page.Description = res.Description
	}
	return s.render(c, code, "grant.html", page)
}

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
