package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// apiListRequests lists, newest first, the requests the caller made or may
// approve — every request for an admin — optionally of one status, at most
// limit (default 500, at most 5000).
func (s *Server) apiListRequests(c echo.Context) error {
	p, admin := person(c)
	status := c.QueryParam("status")
	if status != "" && !slices.Contains(grants.RequestStatuses, status) {
		return httpError(http.StatusBadRequest, "status must be one of "+strings.Join(grants.RequestStatuses, ", "))
	}
	limit, err := intParam(c, "limit", 500, 5000)
	if err != nil {
		return err
	}
	cat := s.opts.Catalog()
	reqs, err := s.store.ListRequests(c.Request().Context(), grants.RequestQuery{
		Status: status, All: admin, Requester: p.Email, Resources: cat.ApprovableResources(p), Limit: limit,
	})
	if err != nil {
		return err
	}
	if reqs == nil {
		reqs = []*grants.Request{}
	}
	return c.JSON(http.StatusOK, reqs)
}
