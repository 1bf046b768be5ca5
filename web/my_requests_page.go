package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// myRequestsPage lists the signed-in person's requests, newest first, one
// page at a time, optionally of one status.
func (s *Server) myRequestsPage(c echo.Context) error {
	p, _ := s.pagePerson(c)
	before, err := beforeParam(c)
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status != "" && !slices.Contains(grants.RequestStatuses, status) {
		return httpError(http.StatusBadRequest, "status must be one of the listed statuses, not "+strconv.Quote(status))
	}
	rows, more, err := s.store.RequestsOf(c.Request().Context(), p.Email, status, grants.Page{Before: before, Size: pageSize})
	if err != nil {
		return err
	}
	page := myRequestsPageData{Flash: s.popFlash(c), Status: status, Statuses: grants.RequestStatuses}
	var last int64
	for i := range rows {
		page.Requests = append(page.Requests, s.newRequestView(&rows[i]))
		last = rows[i].ID
	}
	page.Pager = newPager(c.Request().URL, before, last, more)
	return s.render(c, http.StatusOK, "requests.html", page)
}
