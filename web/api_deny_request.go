package web

import (
	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// apiDenyRequest records the caller's denial.
func (s *Server) apiDenyRequest(c echo.Context) error {
	return s.decideRequest(c, (*grants.Store).DenyRequest)
}
