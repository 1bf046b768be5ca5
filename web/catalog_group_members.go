package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// catalogGroupMembers shows who is in a synced (or kept empty) group and
// why: the ACTIVE members of its Okta group, with a link to manage that
// group in Okta, and since when the policy holds them.
func (s *Server) catalogGroupMembers(c echo.Context) error {
	if _, err := s.catalogStore(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	cat, etag, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	group := c.Param("group")
	okta, synced := cat.Groups[group]
	page := catalogGroupPage{Group: group, Okta: okta, KeptEmpty: catalogContains(cat.KeepEmpty, group)}
	if !synced && !page.KeptEmpty {
		for _, r := range cat.Resources {
			if r.Group == group {
				return c.Redirect(http.StatusSeeOther, "/admin/catalog/resources/"+r.Name)
			}
		}
		return errCatalogNotFound("Group " + group)
	}
	if page.catalogHeader, err = s.catalogHeaderFor(c, etag); err != nil {
		return err
	}
	page.Title = group
	if page.Applied, page.Confirmed, err = s.store.LastApplied(ctx, group); err != nil {
		return err
	}
	var want []catalogMember
	if synced {
		g, err := s.store.DirectoryGroupByName(ctx, okta)
		if err != nil {
			return err
		}
		if g.ID != "" && s.opts.OktaAdminURL != "" {
			page.OktaLink = strings.TrimRight(s.opts.OktaAdminURL, "/") + "/admin/group/" + g.ID
		}
		rows, err := s.store.ActiveMembersOf(ctx, okta)
		if err != nil {
			return err
		}
		for _, r := range rows {
			want = append(want, catalogMember{Email: r.Email, Name: r.Name,
				Source: fmt.Sprintf("Okta group %q", okta), Until: "while ACTIVE in " + okta})
		}
	}
	since, err := s.catalogAddedSince(ctx, group)
	if err != nil {
		return err
	}
	page.Members = catalogMembership(want, page.Applied.Members, since)
	return s.render(c, http.StatusOK, "catalog_group_members.html", page)
}
