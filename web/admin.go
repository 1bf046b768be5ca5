package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
	psync "github.com/accessportal/portal/sync"
)

// requirePagePerson sends people who are not signed in to sign-in, and
// back here afterwards.
func (s *Server) requirePagePerson(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, _, err := s.sessionPerson(c); err != nil {
			return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		return next(c)
	}
}

// requireAdminPage refuses signed-in people who are not admins.
func (s *Server) requireAdminPage(next echo.HandlerFunc) echo.HandlerFunc {
	return s.requirePagePerson(func(c echo.Context) error {
		if _, admin, _ := s.sessionPerson(c); !admin {
			return httpError(http.StatusForbidden, "this page is for portal admins")
		}
		return next(c)
	})
}

// adminPage is the data of the admin dashboard.
type adminPage struct {
	Status        grants.SyncStatus
	Holds         []psync.SyncHold
	CatalogSource string
	Groups        []adminGroup
	Flash         string
}

type adminGroup struct {
	Tailscale, Okta string
}

func (s *Server) adminDashboard(c echo.Context) error {
	ctx := c.Request().Context()
	var page adminPage
	if err := s.db.WithContext(ctx).Where("id = 1").Limit(1).Find(&page.Status).Error; err != nil {
		return err
	}
	holds, err := psync.Holds(ctx, s.db.DB)
	if err != nil {
		return err
	}
	page.Holds = holds
	cat := s.opts.Catalog()
	for _, ts := range sortedKeys(cat.Groups) {
		page.Groups = append(page.Groups, adminGroup{Tailscale: ts, Okta: cat.Groups[ts]})
	}
	if s.opts.CatalogSource != nil {
		page.CatalogSource = s.opts.CatalogSource()
	}
	page.Flash = s.sessions.PopString(ctx, "flash")
	return s.render(c, http.StatusOK, "admin.html", page)
}

// adminSyncNow wakes the reconciler from the dashboard.
func (s *Server) adminSyncNow(c echo.Context) error {
	p, _, _ := s.sessionPerson(c)
	if err := grants.AppendAudit(c.Request().Context(), s.db.DB, grants.Event{At: s.now(), Actor: p.Email, Action: "sync.request", Target: "tailnet policy"}); err != nil {
		return err
	}
	s.wake()
	s.sessions.Put(c.Request().Context(), "flash", "A reconcile was started.")
	return c.Redirect(http.StatusSeeOther, "/admin")
}

// adminConfirmHold lets a held mass removal through.
func (s *Server) adminConfirmHold(c echo.Context) error {
	p, _, _ := s.sessionPerson(c)
	group := c.FormValue("group")
	_, err := psync.ConfirmHold(c.Request().Context(), s.db.DB, group, p.Email, s.now())
	if errors.Is(err, psync.ErrNoHold) {
		return httpError(http.StatusNotFound, "there is no held removal for "+group)
	}
	if err != nil {
		return err
	}
	s.wake()
	s.sessions.Put(c.Request().Context(), "flash", "Removal from "+group+" confirmed; the next reconcile applies it.")
	return c.Redirect(http.StatusSeeOther, "/admin")
}
