package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// adminConfirmHold lets a held mass removal through.
func (s *Server) adminConfirmHold(c echo.Context) error {
	p, _, err := s.sessionPerson(c)
	if err != nil {
		return err
	}
	group := c.FormValue("group")
	_, err = s.store.ConfirmHold(c.Request().Context(), group, p.Email, s.now())
	if errors.Is(err, grants.ErrNoHold) {
		return httpError(http.StatusNotFound, "there is no held removal for "+group)
	}
	if err != nil {
		return err
	}
	s.wake()
	s.flash(c, "Removal from "+group+" confirmed; the next reconcile applies it.")
	return c.Redirect(http.StatusSeeOther, "/admin")
}
