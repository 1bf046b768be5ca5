package grants

import (
	"context"
	"fmt"
	"time"
)

// DesiredInputs are the rows the desired state of the managed groups is
// computed from.
type DesiredInputs struct {
	// Departed are the emails of people Okta says have left (and that no
	// present user has).
	Departed map[string]bool
	// Members are the present members' emails of the Okta groups asked
	// for, by Okta group name.
	Members map[string][]string
	// Holders are the emails holding a running grant, by Tailscale group:
	// active and not past expiresAt at the given time, swept or not.
	Holders map[string][]string
	// Read are the Okta groups asked for whose members the directory
	// snapshot holds (a poll read them); the others are not known yet,
	// which is not the same as empty.
	Read map[string]bool
	// Unfinished are the Tailscale groups holding a grant whose removal
	// the reconciler has not confirmed yet (removedAt empty): such a group
	// stays managed, whatever the catalog says now, until that is done.
	Unfinished map[string]bool
}

// DesiredInputs reads what the desired state is computed from: who departed,
// the present members of the named Okta groups (ACTIVE, LOCKED_OUT,
// PASSWORD_EXPIRED, RECOVERY), and who holds a grant running at now.
func (s *Store) DesiredInputs(ctx context.Context, oktaGroups []string, now time.Time) (*DesiredInputs, error) {
	in := &DesiredInputs{Departed: map[string]bool{}, Members: map[string][]string{}}
	db := s.db.WithContext(ctx)
	var departed []string
	err := db.Model(&DirectoryUser{}).
		Where("status IN ? AND email <> ''", DepartedStatuses).
		Where("email NOT IN (?)", db.Model(&DirectoryUser{}).Select("email").Where("status IN ?", PresentStatuses)).
		Pluck("email", &departed).Error
	if err != nil {
		return nil, fmt.Errorf("reading departed users: %w", err)
	}
	for _, e := range departed {
		in.Departed[e] = true
	}
	if len(oktaGroups) > 0 {
		var rows []struct {
			GroupName string
			Email     string
		}
		err := db.Table("directory_memberships m").
			Select("g.name AS group_name, u.email AS email").
			Joins("JOIN directory_groups g ON g.id = m.group_id").
			Joins("JOIN directory_users u ON u.id = m.user_id").
			Where("g.name IN ? AND u.status IN ? AND u.email <> ''", oktaGroups, PresentStatuses).
			Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("reading synced group members: %w", err)
		}
		for _, r := range rows {
			in.Members[r.GroupName] = append(in.Members[r.GroupName], r.Email)
		}
		if in.Read, err = s.readOktaGroups(ctx, oktaGroups); err != nil {
			return nil, err
		}
	}
	in.Holders, err = s.runningGrantHolders(ctx, now)
	if err != nil {
		return nil, err
	}
	if in.Unfinished, err = s.unfinishedGrantGroups(ctx); err != nil {
		return nil, err
	}
	return in, nil
}

// readOktaGroups returns which of the named Okta groups have their members
// in the snapshot: stamped as read by a poll, or holding membership rows
// (which the snapshot keeps only for the groups it follows).
func (s *Store) readOktaGroups(ctx context.Context, names []string) (map[string]bool, error) {
	var read []string
	db := s.db.WithContext(ctx)
	err := db.Model(&DirectoryGroup{}).Distinct().Where("name IN ?", names).
		Where("members_read_at IS NOT NULL OR id IN (?)", db.Model(&DirectoryMembership{}).Select("group_id")).
		Pluck("name", &read).Error
	if err != nil {
		return nil, fmt.Errorf("reading which Okta groups were read: %w", err)
	}
	out := make(map[string]bool, len(read))
	for _, n := range read {
		out[n] = true
	}
	return out, nil
}

// unfinishedGrantGroups returns the Tailscale groups with a grant whose
// removal from the tailnet is not confirmed yet.
func (s *Store) unfinishedGrantGroups(ctx context.Context) (map[string]bool, error) {
	var groups []string
	err := s.db.WithContext(ctx).Model(&Grant{}).Distinct().Where("removed_at IS NULL").Pluck("group_name", &groups).Error
	if err != nil {
		return nil, fmt.Errorf("reading groups with unfinished grants: %w", err)
	}
	out := make(map[string]bool, len(groups))
	for _, g := range groups {
		out[g] = true
	}
	return out, nil
}

// runningGrantHolders returns, per Tailscale group, the emails holding an
// active grant that has not reached its expiresAt at now: a grant past its
// end is over whether or not the sweeper has marked it yet. People the
// directory knows only as not present (departed, or not active yet) hold
// nothing.
func (s *Store) runningGrantHolders(ctx context.Context, now time.Time) (map[string][]string, error) {
	var rows []Grant
	db := s.db.WithContext(ctx)
	err := db.Select("group_name", "user_email").
		Where("status = ? AND expires_at > ?", GrantActive, now.UTC()).
		Where("user_email NOT IN (?)", db.Model(&DirectoryUser{}).Select("email").
			Where("status NOT IN ? AND email NOT IN (?)", PresentStatuses, db.Model(&DirectoryUser{}).Select("email").Where("status IN ?", PresentStatuses))).
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("reading active grants: %w", err)
	}
	out := map[string][]string{}
	for _, g := range rows {
		out[g.GroupName] = append(out[g.GroupName], g.UserEmail)
	}
	return out, nil
}

// NextGrantEnd returns the earliest expiresAt after the given time among
// active grants: when the next removal is due.
func (s *Store) NextGrantEnd(ctx context.Context, after time.Time) (time.Time, bool, error) {
	var g []Grant
	err := s.db.WithContext(ctx).Select("expires_at").Where("status = ? AND expires_at > ?", GrantActive, after.UTC()).
		Order("expires_at").Limit(1).Find(&g).Error
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reading the next grant end: %w", err)
	}
	if len(g) == 0 {
		return time.Time{}, false, nil
	}
	return g[0].ExpiresAt, true, nil
}
