package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// apiListGrants lists grants newest first: the caller's own, or for an
// admin everybody's (user= narrows to one person). active=true keeps the
// active ones, active=false the ended ones; resource= narrows to one
// resource; limit caps the answer (default 500, at most 5000).
func (s *Server) apiListGrants(c echo.Context) error {
	p, admin := person(c)
	q := grants.GrantQuery{Resource: c.QueryParam("resource")}
	switch v := c.QueryParam("active"); v {
	case "":
	case "true", "false":
		active := v == "true"
		q.Active = &active
	default:
		return httpError(http.StatusBadRequest, "active must be true or false, not "+v)
	}
	user := strings.ToLower(strings.TrimSpace(c.QueryParam("user")))
	switch {
	case admin:
		q.User = user
	case user != "" && user != p.Email:
		return httpError(http.StatusForbidden, "only portal admins may list other people's grants")
	default:
		q.User = p.Email
	}
	limit, err := intParam(c, "limit", 500, 5000)
	if err != nil {
		return err
	}
	q.Limit = limit
	list, err := s.store.ListGrants(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}
