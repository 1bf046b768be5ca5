package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// meResponse is the answer of GET /api/v1/me.
type meResponse struct {
	Email  string   `json:"email"`
	Name   string   `json:"name"`
	Admin  bool     `json:"admin"`
	Groups []string `json:"groups"`
}

// apiMe answers who the caller is, from the directory snapshot.
func (s *Server) apiMe(c echo.Context) error {
	p, admin := person(c)
	groups := p.Groups
	if groups == nil {
		groups = []string{}
	}
	return c.JSON(http.StatusOK, meResponse{Email: p.Email, Name: p.Name, Admin: admin, Groups: groups})
}
