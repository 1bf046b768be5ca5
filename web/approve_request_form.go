package web

import (
	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// approveRequestForm records the signed-in approver's approval.
func (s *Server) approveRequestForm(c echo.Context) error {
	return s.decideRequestForm(c, (*grants.Store).ApproveRequest)
}
