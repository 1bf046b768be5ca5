package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// apiCreateRequest files a request: 201 with the Request, approved at once
// for members of the resource's autoApprove groups.
func (s *Server) apiCreateRequest(c echo.Context) error {
	var body createRequestBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	if strings.TrimSpace(body.Resource) == "" {
		return httpError(http.StatusBadRequest, "resource is required")
	}
	d, err := parseDuration(body.Duration)
	if err != nil {
		return err
	}
	p, _ := person(c)
	req, err := s.store.CreateRequest(c.Request().Context(), s.opts.Catalog(), p,
		grants.RequestInput{Resource: body.Resource, Duration: d, Reason: body.Reason}, s.now())
	return s.changed(c, http.StatusCreated, req, err)
}
