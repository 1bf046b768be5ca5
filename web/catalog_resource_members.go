package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// catalogResourceMembers shows a resource's rules and who holds it now.
func (s *Server) catalogResourceMembers(c echo.Context) error {
	return s.renderCatalogResource(c, http.StatusOK, catalogGrantForm{}, "")
}
