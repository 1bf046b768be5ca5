package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// logout destroys the session.
func (s *Server) logout(c echo.Context) error {
	if err := s.sessions.Destroy(c.Request().Context()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
