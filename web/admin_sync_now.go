package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// adminSyncNow wakes the reconciler from the dashboard.
func (s *Server) adminSyncNow(c echo.Context) error {
	p, _, err := s.sessionPerson(c)
	if err != nil {
		return err
	}
	if err := s.store.AppendAudit(c.Request().Context(), grants.Event{At: s.now(), Actor: p.Email, Action: "sync.request", Target: "tailnet policy"}); err != nil {
		return err
	}
	s.wake()
	s.flash(c, "A reconcile was started.")
	return c.Redirect(http.StatusSeeOther, "/admin")
}
