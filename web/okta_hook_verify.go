package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// oktaHookVerify answers Okta's one-time verification request.
func (s *Server) oktaHookVerify(c echo.Context) error {
	challenge := c.Request().Header.Get("X-Okta-Verification-Challenge")
	if challenge == "" {
		return httpError(http.StatusBadRequest, "missing X-Okta-Verification-Challenge header")
	}
	return c.JSON(http.StatusOK, map[string]string{"verification": challenge})
}
