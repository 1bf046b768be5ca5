package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// homePage is the data of "My access" (/).
type homePage struct {
	Flash string
	// Active are my active grants, soonest expiry first.
	Active []grantView
	// Pending are my requests waiting for a decision.
	Pending []requestView
	// History are my ended grants, newest first, one page of them.
	History []grantView
	Pager   pager
	// Requestable counts the resources I may request.
	Requestable int
	// Awaiting are requests waiting for my decision (one page of them),
	// AwaitingCount all of them; Denied my requests denied lately.
	Awaiting      []requestView
	AwaitingCount int64
	Denied        []requestView
}

// myAccess is the signed-in person's access: active grants with their
// time left, pending requests, and the history of ended grants. People who
// are not signed in see what the portal is and a sign-in button.
func (s *Server) myAccess(c echo.Context) error {
	p, _, err := s.sessionPerson(c)
	if err != nil {
		return s.render(c, http.StatusOK, "home.html", nil)
	}
	before, err := beforeParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cat := s.opts.Catalog()
	page := homePage{Flash: s.popFlash(c)}

	// A person holds at most one active grant and one pending request per
	// resource, so these lists are bounded by the catalog.
	active := true
	list, err := s.store.ListGrants(ctx, grants.GrantQuery{User: p.Email, Active: &active, Limit: len(cat.Resources) + pageSize})
	if err != nil {
		return err
	}
	slices.SortStableFunc(list, func(a, b grants.Grant) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	for i := range list {
		page.Active = append(page.Active, s.newGrantView(&list[i]))
	}
	pending, err := s.store.ListRequests(ctx, grants.RequestQuery{Requester: p.Email, Status: grants.RequestPending, Limit: len(cat.Resources) + pageSize})
	if err != nil {
		return err
	}
	for _, r := range pending {
		page.Pending = append(page.Pending, s.newRequestView(r))
	}

	if err := s.homeDecisions(ctx, p, &page); err != nil {
		return err
	}

	ended, more, err := s.store.EndedGrantsOf(ctx, p.Email, grants.Page{Before: before, Size: pageSize})
	if err != nil {
		return err
	}
	for i := range ended {
		page.History = append(page.History, s.newGrantView(&ended[i]))
	}
	if len(ended) > 0 {
		page.Pager = newPager(c.Request().URL, before, ended[len(ended)-1].ID, more)
	} else {
		page.Pager = newPager(c.Request().URL, before, 0, false)
	}
	for _, name := range cat.ResourceNames() {
		if r := cat.Resources[name]; r.MayRequest(p) {
			page.Requestable++
		}
	}
	return s.render(c, http.StatusOK, "home.html", page)
}
