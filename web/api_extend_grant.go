package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// extendBody is the body of POST /api/v1/grants/{id}/extend.
type extendBody struct {
	Duration string `json:"duration"` // Go duration; "" = the resource's default
	Reason   string `json:"reason"`
}

// apiExtendGrant files the grantee's request to extend an active grant:
// 201 with the Request, whose "extends" names the grant.
func (s *Server) apiExtendGrant(c echo.Context) error {
	id, err := idParam(c, "grant")
	if err != nil {
		return err
	}
	var body extendBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	d, err := parseDuration(body.Duration)
	if err != nil {
		return err
	}
	p, _ := person(c)
	req, err := s.store.ExtendGrant(c.Request().Context(), s.opts.Catalog(), id, p, grants.ExtensionInput{Duration: d, Reason: body.Reason}, s.now())
	return s.changed(c, http.StatusCreated, req, err)
}
