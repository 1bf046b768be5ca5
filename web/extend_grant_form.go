package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// extendGrantForm files the grantee's request to extend their grant, from
// the grant's page; a refusal shows the page again with the reason.
func (s *Server) extendGrantForm(c echo.Context) error {
	p, _ := s.pagePerson(c)
	id, err := idParam(c, "grant")
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	d, err := parseDuration(c.FormValue("duration"))
	var req *grants.Request
	if err == nil {
		req, err = s.store.ExtendGrant(c.Request().Context(), s.opts.Catalog(), id, p, grants.ExtensionInput{Duration: d, Reason: reason}, s.now())
	}
	if err != nil {
		code, msg, ok := clientError(err)
		if !ok || code == http.StatusNotFound {
			return err
		}
		return s.showGrant(c, code, msg, "")
	}
	s.wake()
	s.flash(c, extensionMessage(req))
	return c.Redirect(http.StatusSeeOther, "/grants/"+strconv.FormatInt(id, 10))
}

// extensionMessage tells the grantee what their extension request did.
func extensionMessage(req *grants.Request) string {
	if req.Status == grants.RequestApproved && req.Grant != nil {
		return fmt.Sprintf("Extended at once (%s): the access now lasts until %s.", req.AutoApprovedRule, showTime(req.Grant.ExpiresAt))
	}
	return fmt.Sprintf("Request #%d to extend it by %s was sent to the approvers; the access keeps running meanwhile.", req.ID, grants.FormatDuration(req.Duration()))
}
