package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// requestForm shows the form to request one resource.
func (s *Server) requestForm(c echo.Context) error {
	p, _ := s.pagePerson(c)
	res, err := s.requestableResource(c, p)
	if err != nil {
		return err
	}
	// "Request again" links prefill the duration and reason.
	d, _ := parseDuration(c.QueryParam("duration"))
	return s.render(c, http.StatusOK, "request_form.html", requestFormPage{
		Resource: newResourceView(res, p), Choices: durationChoices(res, d), Reason: c.QueryParam("reason"),
	})
}
