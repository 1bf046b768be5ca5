package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// resourcesPage is the catalog: what I may request, for how long, and
// whether I already hold it or asked for it.
func (s *Server) resourcesPage(c echo.Context) error {
	p, _ := s.pagePerson(c)
	ctx := c.Request().Context()
	cat := s.opts.Catalog()
	active := true
	held, err := s.store.ListGrants(ctx, grants.GrantQuery{User: p.Email, Active: &active, Limit: len(cat.Resources) + pageSize})
	if err != nil {
		return err
	}
	pending, err := s.store.ListRequests(ctx, grants.RequestQuery{Requester: p.Email, Status: grants.RequestPending, Limit: len(cat.Resources) + pageSize})
	if err != nil {
		return err
	}
	page := resourcesPageData{Flash: s.popFlash(c)}
	for _, name := range cat.ResourceNames() {
		v := newResourceView(cat.Resources[name], p)
		for i := range held {
			if held[i].Resource == name {
				g := s.newGrantView(&held[i])
				v.Grant = &g
			}
		}
		for _, r := range pending {
			if r.Resource == name {
				v.PendingID = r.ID
			}
		}
		if v.MayRequest {
			page.Requestable = append(page.Requestable, v)
		} else {
			page.Others = append(page.Others, v)
		}
	}
	return s.render(c, http.StatusOK, "resources.html", page)
}
