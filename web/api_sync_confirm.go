package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// apiSyncConfirm lets a held mass removal through (an extension of the
// contract's sync routes).
func (s *Server) apiSyncConfirm(c echo.Context) error {
	var req confirmHoldRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	p, _ := person(c)
	groups, err := s.store.ConfirmHold(c.Request().Context(), req.Group, p.Email, s.now())
	if errors.Is(err, grants.ErrNoHold) {
		return httpError(http.StatusNotFound, err.Error())
	}
	if err != nil {
		return err
	}
	s.wake()
	return c.JSON(http.StatusOK, map[string]any{"confirmed": groups})
}
