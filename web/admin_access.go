package web

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// adminAccessPageSize is how many grants, and how many synced group
// members, one page of /admin/access lists.
const adminAccessPageSize = 50

// adminAccessPage is who has access to what right now: the holders of
// active grants per resource and the members of the synced groups.
type adminAccessPage struct {
	adminChrome
	// Filters: User is part of an email; Resource a resource name or a
	// synced Tailscale group.
	User, Resource string
	Choices        []adminChoice
	Resources      []adminResourceSummary
	SyncedGroups   []adminGroupSummary
	ShowGrants     bool
	Grants         []adminGrantRow
	GrantPages     adminPager
	ShowMembers    bool
	Members        []adminMemberRow
	MemberPages    adminPager
	// Back is this page, where revoke forms return to.
	Back string
}

// adminChoice is one option of a filter's select.
type adminChoice struct {
	Value, Label string
	Selected     bool
}

// adminResourceSummary counts the active grants of one resource.
type adminResourceSummary struct {
	Name, Group, Description string
	Active, Unapplied        int64
	InCatalog                bool
}

// adminGroupSummary counts the ACTIVE members of one synced group.
type adminGroupSummary struct {
	Tailscale, Okta string
	Members         int64
}

// adminGrantRow is one active grant.
type adminGrantRow struct {
	ID                    int64
	Resource, Group, User string
	Since, Until, Applied adminTime
	Left                  string
	RequestID             *int64
	GrantedBy, Reason     string
	// NewResource marks the first row of its resource on the page, which
	// heads the resource's rows with its description and count.
	NewResource         bool
	InCatalog           bool
	ResourceCount       int64
	ResourceDescription string
	// Locks are the grant's locks in the tailnet.
	Locks grantLocks
}

// adminMemberRow is one member of a synced group, from the directory
// snapshot.
type adminMemberRow struct {
	Tailscale, Okta, Email, Name string
	NewGroup                     bool
}

// adminPager links to the first and the next page of a list.
type adminPager struct {
	First, Next string
}

// adminAccess shows who has access to what right now.
func (s *Server) adminAccess(c echo.Context) error {
	ctx := c.Request().Context()
	cat := s.opts.Catalog()
	q := c.QueryParams()
	page := adminAccessPage{
		User:     strings.ToLower(strings.TrimSpace(q.Get("user"))),
		Resource: strings.TrimSpace(q.Get("resource")),
		Back:     c.Request().URL.RequestURI(),
	}
	_, isResource := cat.Resources[page.Resource]
	_, isGroup := cat.Groups[page.Resource]
	if page.Resource != "" && !isResource && !isGroup {
		// A resource that left the catalog may still have active grants.
		isResource = true
	}
	page.ShowGrants = page.Resource == "" || isResource
	page.ShowMembers = page.Resource == "" || (isGroup && !isResource)

	summaries, err := s.adminResourceSummaries(ctx, cat)
	if err != nil {
		return err
	}
	page.Resources = summaries
	if page.SyncedGroups, err = s.adminGroupSummaries(ctx, cat); err != nil {
		return err
	}
	page.Choices = append(page.Choices, adminChoice{Value: "", Label: "All resources and groups"})
	for _, r := range page.Resources {
		page.Choices = append(page.Choices, adminChoice{Value: r.Name, Label: "Resource " + r.Name, Selected: r.Name == page.Resource})
	}
	for _, g := range page.SyncedGroups {
		page.Choices = append(page.Choices, adminChoice{Value: g.Tailscale, Label: "Synced " + g.Tailscale, Selected: g.Tailscale == page.Resource && !isResource})
	}

	if page.ShowGrants {
		after, err := adminCursor(c, "gafter")
		if err != nil {
			return err
		}
		rows, more, err := s.adminActiveGrants(ctx, page.User, page.Resource, after)
		if err != nil {
			return err
		}
		now := s.now()
		byName := map[string]adminResourceSummary{}
		for _, r := range page.Resources {
			byName[r.Name] = r
		}
		for i, g := range rows {
			r := byName[g.Resource]
			page.Grants = append(page.Grants, adminGrantRow{
				ID: g.ID, Resource: g.Resource, Group: g.GroupName, User: g.UserEmail,
				Since: newAdminTime(g.StartsAt), Until: newAdminTime(g.ExpiresAt), Applied: newAdminTimePtr(g.AppliedAt),
				Left: adminTimeLeft(g.ExpiresAt, now), RequestID: g.RequestID, GrantedBy: g.GrantedBy, Reason: g.Reason,
				NewResource: i == 0 || rows[i-1].Resource != g.Resource, InCatalog: r.InCatalog,
				ResourceCount: r.Active, ResourceDescription: r.Description,
			})
		}
		if err := s.addLocks(ctx, page.Grants, rows); err != nil {
			return err
		}
		page.GrantPages.First = adminPageURL("/admin/access", adminWithParam(q, "gafter", ""))
		if more {
			page.GrantPages.Next = adminPageURL("/admin/access", adminWithParam(q, "gafter", fmt.Sprint(rows[len(rows)-1].ID)))
		}
	}
	if page.ShowMembers {
		groups := slices.Sorted(maps.Keys(cat.Groups))
		if isGroup {
			groups = []string{page.Resource}
		}
		members, more, err := s.adminSyncedMembers(ctx, cat, groups, page.User, q.Get("mgroup"), q.Get("mafter"))
		if err != nil {
			return err
		}
		page.Members = members
		page.MemberPages.First = adminPageURL("/admin/access", adminWithParam(q, "mgroup", "", "mafter"))
		if more {
			last := members[len(members)-1]
			next := adminWithParam(q, "mgroup", last.Tailscale)
			page.MemberPages.Next = adminPageURL("/admin/access", adminWithParam(next, "mafter", last.Email))
		}
	}
	page.adminChrome = s.newAdminChrome(c, "/admin/access")
	return s.render(c, http.StatusOK, "admin_access.html", page)
}

// adminResourceSummaries counts active grants per resource: every resource
// of the catalog, and resources no longer in it that still have some.
func (s *Server) adminResourceSummaries(ctx context.Context, cat *grants.Catalog) ([]adminResourceSummary, error) {
	counts, err := s.store.ActiveGrantCounts(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*adminResourceSummary{}
	var out []adminResourceSummary
	for _, name := range slices.Sorted(maps.Keys(cat.Resources)) {
		r := cat.Resources[name]
		out = append(out, adminResourceSummary{Name: name, Group: r.Group, Description: r.Description, InCatalog: true})
	}
	for i := range out {
		byName[out[i].Name] = &out[i]
	}
	for _, c := range counts {
		if r, ok := byName[c.Resource]; ok {
			r.Active, r.Unapplied = c.Active, c.Unapplied
			continue
		}
		out = append(out, adminResourceSummary{Name: c.Resource, Active: c.Active, Unapplied: c.Unapplied})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// adminGroupSummaries counts the ACTIVE members of each synced group in the
// directory snapshot: what the reconciler puts into the group.
func (s *Server) adminGroupSummaries(ctx context.Context, cat *grants.Catalog) ([]adminGroupSummary, error) {
	sizes, err := s.store.SyncedGroupSizes(ctx, cat)
	if err != nil {
		return nil, err
	}
	var out []adminGroupSummary
	for _, ts := range slices.Sorted(maps.Keys(cat.Groups)) {
		out = append(out, adminGroupSummary{Tailscale: ts, Okta: cat.Groups[ts], Members: sizes[ts]})
	}
	return out, nil
}

// adminActiveGrants reads one page of active grants ordered by resource and
// grantee, after the grant with id after.
func (s *Server) adminActiveGrants(ctx context.Context, user, resource string, after int64) ([]grants.Grant, bool, error) {
	rows, more, err := s.store.ActiveGrantsPage(ctx, user, resource, after, adminAccessPageSize)
	if errors.Is(err, grants.ErrUnknownCursor) {
		return nil, false, httpError(http.StatusBadRequest, fmt.Sprintf("gafter: no grant %d", after))
	}
	return rows, more, err
}

// adminSyncedMembers reads one page of the members of the synced groups
// (in this order), from the member afterEmail of afterGroup on.
func (s *Server) adminSyncedMembers(ctx context.Context, cat *grants.Catalog, groups []string, user, afterGroup, afterEmail string) ([]adminMemberRow, bool, error) {
	members, more, err := s.store.SyncedMembersPage(ctx, cat, groups, user, afterGroup, afterEmail, adminAccessPageSize)
	if err != nil {
		return nil, false, err
	}
	out := make([]adminMemberRow, len(members))
	for i, m := range members {
		out[i] = adminMemberRow{Tailscale: m.Tailscale, Okta: m.Okta, Email: m.Email, Name: m.Name,
			NewGroup: i == 0 || members[i-1].Tailscale != m.Tailscale}
	}
	return out, more, nil
}
