package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// grantPageData is the data of one grant's page.
type grantPageData struct {
	Flash string
	// Error is why the last relinquish was refused; Reason what was typed.
	Error       string
	Reason      string
	Grant       grantView
	Description string
	// Own says whether the grant is the signed-in person's.
	Own bool
	// Extend are the durations offered to extend an own active grant
	// (nil when it cannot be extended).
	Extend []durationChoice
	// AutoRule names the rule that approved the grant's request at once.
	AutoRule string
}

func (s *Server) showGrant(c echo.Context, code int, errMsg, reason string) error {
	p, admin := s.pagePerson(c)
	id, err := idParam(c, "grant")
	if err != nil {
		return err
	}
	g, err := s.store.GetGrant(c.Request().Context(), id)
	if err != nil {
		return err
	}
	own := g.UserEmail == p.Email
	if !own && !admin {
		return httpError(http.StatusNotFound, "no grant "+strconv.FormatInt(id, 10))
	}
	page := grantPageData{Flash: s.popFlash(c), Error: errMsg, Reason: reason, Grant: s.newGrantView(g), Own: own}
	if g.RequestID != nil && g.GrantedBy == "system" {
		if req, err := s.store.GetRequest(c.Request().Context(), *g.RequestID); err == nil {
			page.AutoRule = req.AutoApprovedRule
		}
	}
	locks, err := s.locksOf(c.Request().Context(), []*grants.Grant{g})
	if err != nil {
		return err
	}
	if l, ok := locks[g.ID]; ok {
		page.Grant.Locks = &l
	}
	if res, ok := s.opts.Catalog().Resources[g.Resource]; ok {
		page.Description = res.Description
		if own && page.Grant.Active && !res.Retired {
			page.Extend = durationChoices(res, 0)
		}
	}
	return s.render(c, code, "grant.html", page)
}
