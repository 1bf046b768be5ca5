package grants

import (
	"context"
	"fmt"
	"slices"
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
// on; user keeps the members whose email contains it. It walks the users
// in email order and keeps those in the group, so that a page stops after
// a page of members.
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
	var out []GroupMember
	for i := start; i < len(groups) && len(out) <= size; i++ {
		okta := cat.Groups[groups[i]]
		if len(ids[okta]) == 0 {
			continue
		}
		tx := s.db.WithContext(ctx).Model(&DirectoryUser{}).Select("email", "name").
			Where("status IN ? AND email <> ''", PresentStatuses).
			Where("EXISTS (SELECT 1 FROM directory_memberships m WHERE m.user_id = directory_users.id AND m.group_id IN ?)", ids[okta])
		if i == start && afterEmail != "" {
			tx = tx.Where("email > ?", afterEmail)
		}
		if user != "" {
			tx = tx.Where(`email LIKE ? ESCAPE '\'`, likeContains(user))
		}
		var rows []DirectoryUser
		if err := tx.Order("email").Limit(size + 1 - len(out)).Find(&rows).Error; err != nil {
			return nil, false, fmt.Errorf("listing members of %s: %w", okta, err)
		}
		for _, r := range rows {
			out = append(out, GroupMember{Tailscale: groups[i], Okta: okta, Email: r.Email, Name: r.Name})
		}
	}
	return out[:min(len(out), size)], len(out) > size, nil
}
