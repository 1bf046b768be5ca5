package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// apiCancelRequest withdraws the caller's pending request. The body, if
// any, must be an empty object.
func (s *Server) apiCancelRequest(c echo.Context) error {
	id, err := idParam(c, "request")
	if err != nil {
		return err
	}
	var body struct{}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	p, _ := person(c)
	req, err := s.store.CancelRequest(c.Request().Context(), s.opts.Catalog(), id, p, s.now())
	if err != nil {
		return err
	}
	s.wake()
	return c.JSON(http.StatusOK, req)
}
