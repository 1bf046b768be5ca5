package web

import (
	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// denyRequestForm records the signed-in approver's denial.
func (s *Server) denyRequestForm(c echo.Context) error {
	return s.decideRequestForm(c, (*grants.Store).DenyRequest)
}
