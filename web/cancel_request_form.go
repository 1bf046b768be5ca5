package web

import (
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"
)

// cancelRequestForm withdraws the signed-in person's pending request.
func (s *Server) cancelRequestForm(c echo.Context) error {
	p, _ := s.pagePerson(c)
	id, err := idParam(c, "request")
	if err != nil {
		return err
	}
	req, err := s.store.CancelRequest(c.Request().Context(), s.opts.Catalog(), id, p, s.now())
	if err != nil {
		return s.refusedOnRequestPage(c, err, "")
	}
	s.wake()
	s.flash(c, fmt.Sprintf("Request #%d for %s was cancelled.", req.ID, req.Resource))
	return localRedirect(c, c.FormValue("next"), "/requests/"+strconv.FormatInt(req.ID, 10))
}
