package web

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// adminRequestsPageSize is how many pending requests one page lists.
const adminRequestsPageSize = 50

// adminRequestsPage lists every pending request, oldest first: those
// waiting longest come first.
type adminRequestsPage struct {
	adminChrome
	Requester, Resource string
	Choices             []adminChoice
	Requests            []adminRequestRow
	Pages               adminPager
}

// adminRequestRow is one pending request.
type adminRequestRow struct {
	ID                            int64
	Requester, Resource, Duration string
	Reason                        string
	Created                       adminTime
	Waiting                       string
	Approvals, Needed             int
	ApprovedBy, Approvers         []string
	InCatalog                     bool
}

// adminRequests lists pending requests.
func (s *Server) adminRequests(c echo.Context) error {
	ctx := c.Request().Context()
	cat := s.opts.Catalog()
	q := c.QueryParams()
	page := adminRequestsPage{
		Requester: strings.ToLower(strings.TrimSpace(q.Get("requester"))),
		Resource:  strings.TrimSpace(q.Get("resource")),
	}
	after, err := adminCursor(c, "after")
	if err != nil {
		return err
	}
	rows, more, err := s.store.PendingRequestsPage(ctx, page.Requester, page.Resource, after, adminRequestsPageSize)
	if err != nil {
		return err
	}
	approvedBy := map[int64][]string{}
	for _, r := range rows {
		for _, a := range r.Decisions {
			approvedBy[r.ID] = append(approvedBy[r.ID], a.Approver)
		}
	}
	now := s.now()
	for _, r := range rows {
		row := adminRequestRow{
			ID: r.ID, Requester: r.Requester, Resource: r.Resource, Duration: grants.FormatDuration(r.Duration()),
			Reason: r.Reason, Created: newAdminTime(r.CreatedAt), Waiting: adminDuration(now.Sub(r.CreatedAt)),
			ApprovedBy: approvedBy[r.ID], Approvals: len(approvedBy[r.ID]), Needed: 1,
		}
		if res, ok := cat.Resources[r.Resource]; ok {
			row.InCatalog = true
			row.Needed = max(res.Approvals, 1)
			row.Approvers = res.Approvers
			if len(row.Approvers) == 0 {
				row.Approvers = cat.Admins
			}
		}
		page.Requests = append(page.Requests, row)
	}
	page.Choices = append(page.Choices, adminChoice{Value: "", Label: "All resources"})
	for _, name := range slices.Sorted(maps.Keys(cat.Resources)) {
		page.Choices = append(page.Choices, adminChoice{Value: name, Label: name, Selected: name == page.Resource})
	}
	page.Pages.First = adminPageURL("/admin/requests", adminWithParam(q, "after", ""))
	if more {
		page.Pages.Next = adminPageURL("/admin/requests", adminWithParam(q, "after", fmt.Sprint(rows[len(rows)-1].ID)))
	}
	page.adminChrome = s.newAdminChrome(c, "/admin/requests")
	return s.render(c, http.StatusOK, "admin_requests.html", page)
}
