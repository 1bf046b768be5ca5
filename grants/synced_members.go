package grants

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// GroupMember is an ACTIVE member of a synced group in the directory
// snapshot.
type GroupMember struct {
	Tailscale, Okta string
	Email, Name     string
}

// oktaGroupIDs maps the Okta group names of the catalog's synced groups to
// the ids of the snapshot's groups of that name.
func (s *Store) oktaGroupIDs(ctx context.Context, cat *Catalog) (map[string][]string, error) {
	var names []string
	for _, okta := range cat.Groups {
		names = append(names, okta)
	}
	ids := map[string][]string{}
	if len(names) == 0 {
		return ids, nil
	}
	var groups []DirectoryGroup
	if err := s.db.WithContext(ctx).Select("id", "name").Where("name IN ?", names).Find(&groups).Error; err != nil {
		return nil, fmt.Errorf("reading synced Okta groups: %w", err)
	}
	for _, g := range groups {
		ids[g.Name] = append(ids[g.Name], g.ID)
	}
	return ids, nil
}

// SyncedGroupSizes reads how many ACTIVE members each synced group of the
// catalog has in the directory snapshot (keyed by Tailscale group): what
// the reconciler puts into the group. The snapshot's writers keep these
// counts (directory_group_sizes), so that reading them does not count a
// hundred thousand memberships.
func (s *Store) SyncedGroupSizes(ctx context.Context, cat *Catalog) (map[string]int64, error) {
	ids, err := s.oktaGroupIDs(ctx, cat)
	if err != nil {
		return nil, err
	}
	var all []string
	for _, gs := range ids {
		all = append(all, gs...)
	}
	counts := map[string]int64{} // by Okta group id
	if len(all) > 0 {
		var rows []directoryGroupSize
		if err := s.db.WithContext(ctx).Where("group_id IN ?", all).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("reading synced group sizes: %w", err)
		}
		for _, r := range rows {
			counts[r.GroupID] = r.PresentMembers
		}
	}
	out := map[string]int64{}
	for ts, okta := range cat.Groups {
		for _, id := range ids[okta] {
			out[ts] += counts[id]
		}
	}
	return out, nil
}

// SyncedMembersPage reads one page of at most size members of the synced
// groups (in this order, sorted), from the member afterEmail of afterGroup
// on; user keeps the members whose email contains it.
func (s *Store) SyncedMembersPage(ctx context.Context, cat *Catalog, groups []string, user, afterGroup, afterEmail string, size int) ([]GroupMember, bool, error) {
	ids, err := s.oktaGroupIDs(ctx, cat)
	if err != nil {
		return nil, false, err
	}
	start := 0
	if afterGroup != "" {
		var found bool
		if start, found = slices.BinarySearch(groups, afterGroup); !found {
			afterEmail = ""
		}
	} else {
		afterEmail = ""
	}
	p := membersPage{cat: cat, ids: ids, groups: groups[start:], user: user, afterEmail: afterEmail, size: size}
	if user != "" {
		people, few, err := s.presentPeopleMatching(ctx, user)
		if err != nil || few {
			return s.matchedMembersPage(ctx, p, people)
		}
	}
	return s.walkedMembersPage(ctx, p)
}

// membersPage is what a page of synced group members is read from.
type membersPage struct {
	cat        *Catalog
	ids        map[string][]string // the snapshot's group ids of each Okta group name
	groups     []string            // the Tailscale groups from the page's first on
	user       string
	afterEmail string // in the first group
	size       int
}

// memberFilterMatches is how many present people a user filter may match
// for their memberships to be read at once. A filter that matches more
// matches a share of every group, and walking a group finds a page soon.
const memberFilterMatches = 1000

// presentPeopleMatching reads the present people whose email contains user,
// sorted by email, when they are at most memberFilterMatches (few).
func (s *Store) presentPeopleMatching(ctx context.Context, user string) ([]DirectoryUser, bool, error) {
	var people []DirectoryUser
	// The filter first: it rules out most people, cheaper than the status.
	err := s.db.WithContext(ctx).Select("id", "email", "name").
		Where(s.emailContains("email", user)).Where("status IN ? AND email <> ''", PresentStatuses).
		Limit(memberFilterMatches + 1).Find(&people).Error
	if err != nil {
		return nil, false, fmt.Errorf("finding people matching %q: %w", user, err)
	}
	if len(people) > memberFilterMatches {
		return nil, false, nil
	}
	slices.SortFunc(people, func(a, b DirectoryUser) int { return strings.Compare(a.Email, b.Email) })
	return people, true, nil
}

// matchedMembersPage builds the page from the few people a user filter
// matches and their memberships: one read of the people, not one per group.
func (s *Store) matchedMembersPage(ctx context.Context, p membersPage, people []DirectoryUser) ([]GroupMember, bool, error) {
	var all, userIDs []string
	for _, ids := range p.ids {
		all = append(all, ids...)
	}
	for _, u := range people {
		userIDs = append(userIDs, u.ID)
	}
	in := map[DirectoryMembership]bool{}
	for chunk := range slices.Chunk(userIDs, 500) {
		var rows []DirectoryMembership
		if err := s.db.WithContext(ctx).Where("group_id IN ? AND user_id IN ?", all, chunk).Find(&rows).Error; err != nil {
			return nil, false, fmt.Errorf("reading memberships: %w", err)
		}
		for _, m := range rows {
			in[m] = true
		}
	}
	var out []GroupMember
	for i, ts := range p.groups {
		okta := p.cat.Groups[ts]
		for _, u := range people {
			if i == 0 && p.afterEmail != "" && u.Email <= p.afterEmail {
				continue
			}
			if slices.ContainsFunc(p.ids[okta], func(g string) bool { return in[DirectoryMembership{GroupID: g, UserID: u.ID}] }) {
				out = append(out, GroupMember{Tailscale: ts, Okta: okta, Email: u.Email, Name: u.Name})
			}
		}
	}
	return out[:min(len(out), p.size)], len(out) > p.size, nil
}

// walkedMembersPage walks the users of each group in email order and keeps
// those in the group, so that a page stops after a page of members.
func (s *Store) walkedMembersPage(ctx context.Context, p membersPage) ([]GroupMember, bool, error) {
	var out []GroupMember
	for i := 0; i < len(p.groups) && len(out) <= p.size; i++ {
		okta := p.cat.Groups[p.groups[i]]
		if len(p.ids[okta]) == 0 {
			continue
		}
		tx := s.db.WithContext(ctx).Model(&DirectoryUser{}).Select("email", "name").
			Where("status IN ? AND email <> ''", PresentStatuses).
			Where("EXISTS (SELECT 1 FROM directory_memberships m WHERE m.user_id = directory_users.id AND m.group_id IN ?)", p.ids[okta])
		if i == 0 && p.afterEmail != "" {
			tx = tx.Where("email > ?", p.afterEmail)
		}
		if p.user != "" {
			tx = tx.Where(s.emailContains("email", p.user))
		}
		var rows []DirectoryUser
		if err := tx.Order("email").Limit(p.size + 1 - len(out)).Find(&rows).Error; err != nil {
			return nil, false, fmt.Errorf("listing members of %s: %w", okta, err)
		}
		for _, r := range rows {
			out = append(out, GroupMember{Tailscale: p.groups[i], Okta: okta, Email: r.Email, Name: r.Name})
		}
	}
	return out[:min(len(out), p.size)], len(out) > p.size, nil
}
