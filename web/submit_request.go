package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// submitRequest files the request of the form. A refusal shows the form
// again with the reason and the typed values; success goes to the request.
func (s *Server) submitRequest(c echo.Context) error {
	p, _ := s.pagePerson(c)
	res, err := s.requestableResource(c, p)
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	d, err := parseDuration(c.FormValue("duration"))
	if err == nil {
		var req *grants.Request
		req, err = s.store.CreateRequest(c.Request().Context(), s.opts.Catalog(), p,
			grants.RequestInput{Resource: res.Name, Duration: d, Reason: reason}, s.now())
		if err == nil {
			s.wake()
			s.flash(c, requestFiledMessage(req))
			return c.Redirect(http.StatusSeeOther, "/requests/"+strconv.FormatInt(req.ID, 10))
		}
	}
	code, msg, ok := clientError(err)
	if !ok {
		return err
	}
	return s.render(c, code, "request_form.html", requestFormPage{
		Resource: newResourceView(res, p), Choices: durationChoices(res, d), Reason: reason, Error: msg,
	})
}
