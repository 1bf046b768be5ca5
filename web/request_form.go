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
	return s.render(c, http.StatusOK, "request_form.html", requestFormPage{
		Resource: newResourceView(res, p), Choices: durationChoices(res, 0),
	})
}
