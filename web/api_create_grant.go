package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

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
	return s.changed(c, http.StatusCreated, g, err)
}
