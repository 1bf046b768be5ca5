package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// tokensMine shows the signed-in person's API tokens and the form to
// create one.
func (s *Server) tokensMine(c echo.Context) error {
	return s.renderTokens(c, http.StatusOK, false, "", "", "")
}
