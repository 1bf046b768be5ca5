package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiRevokeGrant ends an active grant now: the grantee relinquishing it, or
// an admin. Anyone else gets 404, as for a grant that does not exist.
func (s *Server) apiRevokeGrant(c echo.Context) error {
	id, err := idParam(c, "grant")
	if err != nil {
		return err
	}
	var body revokeBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	p, _ := person(c)
	g, err := s.store.RevokeGrant(c.Request().Context(), s.opts.Catalog(), id, p, body.Reason, s.now())
	if err != nil {
		return err
	}
	s.wake()
	return c.JSON(http.StatusOK, g)
}
