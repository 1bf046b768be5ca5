package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// requestPage shows a request to its requester, its approvers and the
// admins; others get 404, as for a request that does not exist.
func (s *Server) requestPage(c echo.Context) error {
	return s.showRequest(c, http.StatusOK, "", "")
}
