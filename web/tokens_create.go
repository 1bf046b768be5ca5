package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// tokensCreate mints an API token for the signed-in person and shows its
// secret once.
func (s *Server) tokensCreate(c echo.Context) error {
	p, _, err := s.sessionPerson(c)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("name"))
	switch {
	case name == "":
		return s.renderTokens(c, http.StatusBadRequest, false, "", "", "Give the token a name that says where it is used, such as “laptop CLI”.")
	case utf8.RuneCountInString(name) > tokenNameMax:
		return s.renderTokens(c, http.StatusBadRequest, false, "", "", fmt.Sprintf("The name is too long: at most %d characters.", tokenNameMax))
	}
	var ttl time.Duration
	for _, l := range tokenLifetimes {
		if l.Value == c.FormValue("ttl") {
			ttl = l.TTL
		}
	}
	if ttl == 0 {
		return s.renderTokens(c, http.StatusBadRequest, false, "", "", "Choose one of the lifetimes offered.")
	}
	secret, _, err := s.store.CreateToken(c.Request().Context(), p.Email, name, ttl, s.now())
	if err != nil {
		return err
	}
	return s.renderTokens(c, http.StatusCreated, false, secret, name, "")
}
