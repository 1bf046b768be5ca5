package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// grantPage shows a grant to its grantee and the admins; others get 404,
// as for a grant that does not exist.
func (s *Server) grantPage(c echo.Context) error {
	return s.showGrant(c, http.StatusOK, "", "")
}
