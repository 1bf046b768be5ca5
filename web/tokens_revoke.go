package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// tokensRevoke disables a token: one's own, or any for an admin.
func (s *Server) tokensRevoke(c echo.Context) error {
	id, err := idParam(c, "token")
	if err != nil {
		return err
	}
	p, admin, err := s.sessionPerson(c)
	if err != nil {
		return err
	}
	allowed := []string{"/tokens"}
	if admin {
		allowed = append(allowed, "/admin/tokens")
	}
	back := adminBack(c.FormValue("back"), allowed...)
	tok, err := s.store.RevokeToken(c.Request().Context(), id, p, admin, s.now())
	code, msg, refused := clientError(err)
	switch {
	case refused && code != http.StatusNotFound:
		s.flash(c, "Token not revoked: "+msg+".")
	case err != nil:
		return err
	default:
		s.flash(c, fmt.Sprintf("Token “%s” of %s revoked; it no longer works.", tok.Name, tok.Email))
	}
	return c.Redirect(http.StatusSeeOther, back)
}
