package web

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

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
	db := s.db.WithContext(ctx)
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

	summaries, err := s.adminResourceSummaries(db, cat)
	if err != nil {
		return err
	}
	page.Resources = summaries
	if page.SyncedGroups, err = adminGroupSummaries(db, cat); err != nil {
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
		rows, more, err := adminActiveGrants(db, page.User, page.Resource, after)
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
		page.GrantPages.First = adminPageURL("/admin/access", adminWithParam(q, "gafter", ""))
		if more {
			page.GrantPages.Next = adminPageURL("/admin/access", adminWithParam(q, "gafter", fmt.Sprint(rows[len(rows)-1].ID)))
		}
	}
	if page.ShowMembers {
		groups := sortedKeys(cat.Groups)
		if isGroup {
			groups = []string{page.Resource}
		}
		members, more, err := adminSyncedMembers(db, cat, groups, page.User, q.Get("mgroup"), q.Get("mafter"))
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
func (s *Server) adminResourceSummaries(db *gorm.DB, cat *grants.Catalog) ([]adminResourceSummary, error) {
	var counts []struct {
		Resource  string
		Active    int64
		Unapplied int64
	}
	err := activeGrantsByResource(db).
		Select("resource, COUNT(*) AS active, SUM(CASE WHEN applied_at IS NULL THEN 1 ELSE 0 END) AS unapplied").
		Where("status = 'active'").Group("resource").Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("counting active grants: %w", err)
	}
	byName := map[string]*adminResourceSummary{}
	var out []adminResourceSummary
	for _, name := range sortedKeys(cat.Resources) {
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
// directory snapshot: what the reconciler puts into the group. It counts
// memberships on the index and takes away those of users who are not
// ACTIVE (few), rather than reading every member's row.
func adminGroupSummaries(db *gorm.DB, cat *grants.Catalog) ([]adminGroupSummary, error) {
	ids, err := adminOktaGroupIDs(db, cat)
	if err != nil {
		return nil, err
	}
	var all []string
	for _, gs := range ids {
		all = append(all, gs...)
	}
	counts := map[string]int64{} // by Okta group id
	if len(all) > 0 {
		var rows []struct {
			GroupID string
			N       int64
		}
		err := db.Model(&grants.DirectoryMembership{}).Select("group_id, COUNT(*) AS n").
			Where("group_id IN ?", all).Group("group_id").Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("counting synced group members: %w", err)
		}
		for _, r := range rows {
			counts[r.GroupID] += r.N
		}
		rows = nil
		gone := db.Model(&grants.DirectoryUser{}).Select("id").Where("status <> ? OR email = ''", grants.StatusActive)
		err = db.Model(&grants.DirectoryMembership{}).Select("group_id, COUNT(*) AS n").
			Where("group_id IN ? AND user_id IN (?)", all, gone).Group("group_id").Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("counting synced group members: %w", err)
		}
		for _, r := range rows {
			counts[r.GroupID] -= r.N
		}
	}
	var out []adminGroupSummary
	for _, ts := range sortedKeys(cat.Groups) {
		okta := cat.Groups[ts]
		sum := adminGroupSummary{Tailscale: ts, Okta: okta}
		for _, id := range ids[okta] {
			sum.Members += counts[id]
		}
		out = append(out, sum)
	}
	return out, nil
}

// adminOktaGroupIDs maps the Okta group names of the synced groups to the
// ids of the snapshot's groups of that name.
func adminOktaGroupIDs(db *gorm.DB, cat *grants.Catalog) (map[string][]string, error) {
	var names []string
	for _, okta := range cat.Groups {
		names = append(names, okta)
	}
	ids := map[string][]string{}
	if len(names) == 0 {
		return ids, nil
	}
	var groups []grants.DirectoryGroup
	if err := db.Select("id", "name").Where("name IN ?", names).Find(&groups).Error; err != nil {
		return nil, fmt.Errorf("reading synced Okta groups: %w", err)
	}
	for _, g := range groups {
		ids[g.Name] = append(ids[g.Name], g.ID)
	}
	return ids, nil
}

// activeGrantsByResource queries grants through the partial index of
// active grants by resource and grantee (migration 00007). Queries on it
// say status = 'active' literally, which the index requires; SQLite, which
// has no statistics to prefer it, is told to use it.
func activeGrantsByResource(db *gorm.DB) *gorm.DB {
	if db.Dialector.Name() == "sqlite" {
		return db.Table("grants INDEXED BY grants_active_resource_idx")
	}
	return db.Table("grants")
}

// adminActiveGrants reads one page of active grants ordered by resource and
// grantee, after the grant with id after (keyset: a grantee holds at most
// one active grant per resource).
func adminActiveGrants(db *gorm.DB, user, resource string, after int64) ([]grants.Grant, bool, error) {
	tx := activeGrantsByResource(db).Where("status = 'active'")
	if resource != "" {
		tx = tx.Where("resource = ?", resource)
	}
	if user != "" {
		tx = tx.Where(`user_email LIKE ? ESCAPE '\'`, adminLikeContains(user))
	}
	if after > 0 {
		var cur grants.Grant
		err := db.Select("resource", "user_email").Where("id = ?", after).Take(&cur).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, false, httpError(http.StatusBadRequest, fmt.Sprintf("gafter: no grant %d", after))
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading grant %d: %w", after, err)
		}
		tx = tx.Where("resource > ? OR (resource = ? AND user_email > ?)", cur.Resource, cur.Resource, cur.UserEmail)
	}
	var rows []grants.Grant
	if err := tx.Order("resource, user_email").Limit(adminAccessPageSize + 1).Find(&rows).Error; err != nil {
		return nil, false, fmt.Errorf("listing active grants: %w", err)
	}
	more := len(rows) > adminAccessPageSize
	return rows[:min(len(rows), adminAccessPageSize)], more, nil
}

// adminSyncedMembers reads one page of the members of the synced groups
// (in this order), from the member afterEmail of afterGroup on. It walks
// the users in email order and keeps those in the group, so that a page
// stops after a page of members.
func adminSyncedMembers(db *gorm.DB, cat *grants.Catalog, groups []string, user, afterGroup, afterEmail string) ([]adminMemberRow, bool, error) {
	ids, err := adminOktaGroupIDs(db, cat)
	if err != nil {
		return nil, false, err
	}
	start := 0
	if afterGroup != "" {
		start = sort.SearchStrings(groups, afterGroup)
		if start < len(groups) && groups[start] != afterGroup {
			afterEmail = ""
		}
	} else {
		afterEmail = ""
	}
	var out []adminMemberRow
	for i := start; i < len(groups) && len(out) <= adminAccessPageSize; i++ {
		okta := cat.Groups[groups[i]]
		if len(ids[okta]) == 0 {
			continue
		}
		tx := db.Model(&grants.DirectoryUser{}).Select("email", "name").
			Where("status = ? AND email <> ''", grants.StatusActive).
			Where("EXISTS (SELECT 1 FROM directory_memberships m WHERE m.user_id = directory_users.id AND m.group_id IN ?)", ids[okta])
		if i == start && afterEmail != "" {
			tx = tx.Where("email > ?", afterEmail)
		}
		if user != "" {
			tx = tx.Where(`email LIKE ? ESCAPE '\'`, adminLikeContains(user))
		}
		var rows []grants.DirectoryUser
		if err := tx.Order("email").Limit(adminAccessPageSize + 1 - len(out)).Find(&rows).Error; err != nil {
			return nil, false, fmt.Errorf("listing members of %s: %w", okta, err)
		}
		for j, r := range rows {
			out = append(out, adminMemberRow{Tailscale: groups[i], Okta: okta, Email: r.Email, Name: r.Name, NewGroup: j == 0})
		}
	}
	more := len(out) > adminAccessPageSize
	return out[:min(len(out), adminAccessPageSize)], more, nil
}

// adminRevokeGrant revokes an active grant from the access page, with the
// reason the grantee is told.
func (s *Server) adminRevokeGrant(c echo.Context) error {
	id, err := idParam(c, "grant")
	if err != nil {
		return err
	}
	back := adminBack(c.FormValue("back"), "/admin/access")
	reason := strings.TrimSpace(c.FormValue("reason"))
	if reason == "" {
		s.adminFlash(c, fmt.Sprintf("Grant %d was not revoked: give a reason (it is audited and sent to the grantee).", id))
		return c.Redirect(http.StatusSeeOther, back)
	}
	p, _, err := s.sessionPerson(c)
	if err != nil {
		return err
	}
	g, err := grants.RevokeGrant(c.Request().Context(), s.db.DB, s.opts.Catalog(), id, p, reason, s.now())
	var refused *grants.Refusal
	if errors.As(err, &refused) {
		s.adminFlash(c, "Grant not revoked: "+refused.Msg+".")
		return c.Redirect(http.StatusSeeOther, back)
	}
	if err != nil {
		return err
	}
	s.wake()
	s.adminFlash(c, fmt.Sprintf("Grant %d revoked: %s loses %s; the next reconcile removes them from %s.", g.ID, g.UserEmail, g.Resource, g.GroupName))
	return c.Redirect(http.StatusSeeOther, back)
}
