package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// revokeBody is the body of POST /api/v1/grants/{id}/revoke.
type revokeBody struct {
	Reason string `json:"reason"`
}

// directGrantBody is the body of POST /api/v1/grants.
type directGrantBody struct {
	Resource string `json:"resource"`
	User     string `json:"user"`
	Duration string `json:"duration"` // Go duration; "" = the resource's default
	Reason   string `json:"reason"`
}

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

// apiCreateGrant is an admin's direct grant: 201 with the Grant (a new one,
// or the user's active grant extended).
func (s *Server) apiCreateGrant(c echo.Context) error {
	var body directGrantBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	if strings.TrimSpace(body.Resource) == "" {
		return httpError(http.StatusBadRequest, "resource is required")
	}
	d, err := parseDuration(body.Duration)
	if err != nil {
		return err
	}
	p, _ := person(c)
	g, err := s.store.DirectGrant(c.Request().Context(), s.opts.Catalog(), p, grants.DirectGrantInput{
		Resource: body.Resource, User: body.User, Duration: d, Reason: body.Reason,
	}, s.now())
	if err != nil {
		return err
	}
	s.wake()
	return c.JSON(http.StatusCreated, g)
}
