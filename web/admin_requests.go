package web

import (
	"fmt"
	"net/http"
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
	db := s.db.WithContext(ctx)
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
	tx := db.Model(&grants.Request{}).Where("status = ?", grants.RequestPending)
	if page.Resource != "" {
		tx = tx.Where("resource = ?", page.Resource)
	}
	if page.Requester != "" {
		tx = tx.Where(`requester LIKE ? ESCAPE '\'`, adminLikeContains(page.Requester))
	}
	if after > 0 {
		tx = tx.Where("id > ?", after)
	}
	var rows []grants.Request
	if err := tx.Order("id").Limit(adminRequestsPageSize + 1).Find(&rows).Error; err != nil {
		return fmt.Errorf("listing pending requests: %w", err)
	}
	more := len(rows) > adminRequestsPageSize
	rows = rows[:min(len(rows), adminRequestsPageSize)]

	approvedBy := map[int64][]string{}
	if len(rows) > 0 {
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		var approvals []grants.Approval
		err := db.Where("request_id IN ? AND decision = ?", ids, grants.DecisionApprove).Order("at, id").Find(&approvals).Error
		if err != nil {
			return fmt.Errorf("reading approvals: %w", err)
		}
		for _, a := range approvals {
			approvedBy[a.RequestID] = append(approvedBy[a.RequestID], a.Approver)
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
	for _, name := range sortedKeys(cat.Resources) {
		page.Choices = append(page.Choices, adminChoice{Value: name, Label: name, Selected: name == page.Resource})
	}
	page.Pages.First = adminPageURL("/admin/requests", adminWithParam(q, "after", ""))
	if more {
		page.Pages.Next = adminPageURL("/admin/requests", adminWithParam(q, "after", fmt.Sprint(rows[len(rows)-1].ID)))
	}
	page.adminChrome = s.newAdminChrome(c, "/admin/requests")
	return s.render(c, http.StatusOK, "admin_requests.html", page)
}
