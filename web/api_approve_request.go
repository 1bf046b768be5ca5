package web

import (
	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// apiApproveRequest records the caller's approval.
func (s *Server) apiApproveRequest(c echo.Context) error {
	return s.decideRequest(c, (*grants.Store).ApproveRequest)
}
