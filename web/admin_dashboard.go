package web

import (
	"maps"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

func (s *Server) adminDashboard(c echo.Context) error {
	ctx := c.Request().Context()
	var page adminPage
	var err error
	if page.Status, err = s.store.SyncStatus(ctx); err != nil {
		return err
	}
	holds, err := s.store.Holds(ctx)
	if err != nil {
		return err
	}
	page.Holds = holds
	cat := s.opts.Catalog()
	for _, ts := range slices.Sorted(maps.Keys(cat.Groups)) {
		page.Groups = append(page.Groups, adminGroup{Tailscale: ts, Okta: cat.Groups[ts]})
	}
	if s.opts.CatalogSource != nil {
		page.CatalogSource = s.opts.CatalogSource()
	}
	drift, err := s.store.ListAuditPage(ctx, grants.AuditPageQuery{
		AuditFilter: grants.AuditFilter{Action: "sync.drift"}, Limit: adminDriftShown,
	})
	if err != nil {
		return err
	}
	for _, e := range drift.Events {
		page.Drift = append(page.Drift, newAdminDrift(e))
	}
	if page.Notifications, err = s.store.NotificationHealth(ctx); err != nil {
		return err
	}
	if s.opts.PagerDutyStatus != nil {
		st := s.opts.PagerDutyStatus()
		page.PagerDuty = &st
	}
	page.Evidence = defaultEvidencePeriod(s.now())
	if s.opts.Integrations != nil {
		page.Integrations = s.opts.Integrations(ctx)
	}
	counts, err := s.store.CountForAdmins(ctx)
	if err != nil {
		return err
	}
	page.Overview = newAdminOverview(counts, page.Status, page.Holds, page.Notifications)
	page.adminChrome = s.newAdminChrome(c, "/admin")
	return s.render(c, http.StatusOK, "admin.html", page)
}
