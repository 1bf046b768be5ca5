package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// apiListRequests lists, newest first, the requests the caller made or may
// approve — every request for an admin — optionally of one status, at most
// limit (default 500, at most 5000). role=requester keeps the caller's own;
// role=approver lists what waits for the caller's decision.
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
	q := grants.RequestQuery{Status: status, All: admin, Requester: p.Email, Resources: cat.ApprovableResources(p), Limit: limit}
	switch role := c.QueryParam("role"); role {
	case "":
	case roleApprover:
		return s.apiAwaitingDecision(c, p, status, limit)
	case roleRequester:
		q.All, q.Resources = false, nil
	default:
		return httpError(http.StatusBadRequest, "role must be approver or requester, not "+strconv.Quote(role))
	}
	reqs, err := s.store.ListRequests(c.Request().Context(), q)
	if err != nil {
		return err
	}
	if reqs == nil {
		reqs = []*grants.Request{}
	}
	return c.JSON(http.StatusOK, reqs)
}
