package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// apiSyncNow wakes the reconciler: 202, the pass runs right away.
func (s *Server) apiSyncNow(c echo.Context) error {
	p, _ := person(c)
	if err := s.store.AppendAudit(c.Request().Context(), grants.Event{At: s.now(), Actor: p.Email, Action: "sync.request", Target: "tailnet policy"}); err != nil {
		return err
	}
	s.wake()
	return c.JSON(http.StatusAccepted, map[string]string{"status": "reconcile started"})
}
