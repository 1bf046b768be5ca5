package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// approveBody is the body of POST /api/v1/requests/{id}/approve.
type approveBody struct {
	Comment string `json:"comment"`
	// Duration is the grant's length the approver sets (a Go duration);
	// "" keeps the requested one.
	Duration string `json:"duration"`
}

// apiApproveRequest records the caller's approval, with the grant's length
// when they set one.
func (s *Server) apiApproveRequest(c echo.Context) error {
	id, err := idParam(c, "request")
	if err != nil {
		return err
	}
	var body approveBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	d, err := parseDuration(body.Duration)
	if err != nil {
		return err
	}
	p, _ := person(c)
	req, err := s.store.ApproveRequestFor(c.Request().Context(), s.opts.Catalog(), id, p, body.Comment, d, s.now())
	return s.changed(c, http.StatusOK, req, err)
}
