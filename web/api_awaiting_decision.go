package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// Values of GET /api/v1/requests?role=.
const (
	roleApprover  = "approver"
	roleRequester = "requester"
)

// apiAwaitingDecision answers GET /api/v1/requests?role=approver: only the
// pending requests the caller may approve now — not their own, not those
// they already approved — newest first.
func (s *Server) apiAwaitingDecision(c echo.Context, p *grants.Person, status string, limit int) error {
	if status != "" && status != grants.RequestPending {
		return httpError(http.StatusBadRequest, "role=approver lists pending requests only; leave status out or use status=pending")
	}
	resources := s.opts.Catalog().ApprovableResources(p)
	reqs, err := s.store.AwaitingDecision(c.Request().Context(), resources, p.Email, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, reqs)
}
