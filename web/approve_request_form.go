package web

import (
	"strconv"

	"github.com/labstack/echo/v4"
)

// approveRequestForm records the signed-in approver's approval, for the
// duration chosen in the form (the requested one preselected).
func (s *Server) approveRequestForm(c echo.Context) error {
	p, _ := s.pagePerson(c)
	id, err := idParam(c, "request")
	if err != nil {
		return err
	}
	comment := c.FormValue("comment")
	d, err := parseDuration(c.FormValue("duration"))
	if err != nil {
		return s.refusedOnRequestPage(c, err, comment)
	}
	req, err := s.store.ApproveRequestFor(c.Request().Context(), s.opts.Catalog(), id, p, comment, d, s.now())
	if err != nil {
		return s.refusedOnRequestPage(c, err, comment)
	}
	s.wake()
	s.flash(c, decisionMessage(req, p.Email))
	return localRedirect(c, c.FormValue("next"), "/requests/"+strconv.FormatInt(req.ID, 10))
}
