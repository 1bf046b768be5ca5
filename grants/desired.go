package grants

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
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
	// DirectoryVersion identifies the snapshot Departed, Members and Read
	// come from: the same version, the same values.
	DirectoryVersion int64
}

// DesiredInputs reads what the desired state is computed from: who departed,
// the present members of the named Okta groups (ACTIVE, LOCKED_OUT,
// PASSWORD_EXPIRED, RECOVERY), and who holds a grant running at now. What
// comes from the directory snapshot alone is read again only when the
// snapshot changed since (directory_version): a pass that changes nothing
// reads the grants, not 10,000s of memberships. The answer's maps are
// shared with later answers: callers must not modify them.
func (s *Store) DesiredInputs(ctx context.Context, oktaGroups []string, now time.Time) (*DesiredInputs, error) {
	dir, err := s.directoryInputs(ctx, oktaGroups)
	if err != nil {
		return nil, err
	}
	in := &DesiredInputs{Departed: dir.departed, Members: dir.members, Read: dir.read, DirectoryVersion: dir.version}
	if in.Holders, err = s.runningGrantHolders(ctx, now, dir.absent); err != nil {
		return nil, err
	}
	if in.Unfinished, err = s.unfinishedGrantGroups(ctx); err != nil {
		return nil, err
	}
	return in, nil
}

// directoryInputs are the inputs of the desired state read from the
// directory snapshot alone, as of one directory_version.
type directoryInputs struct {
	version int64
	groups  string // the Okta group names they were read for, joined
	// departed are the emails Okta says have left; absent, every email the
	// directory knows only as not present (departed, or not active yet).
	departed, absent map[string]bool
	members          map[string][]string
	read             map[string]bool
}

// directoryCache keeps what a Store decoded for the reconciler: the last
// directoryInputs, and the decoded members of each managed group.
type directoryCache struct {
	mu      sync.Mutex
	last    *directoryInputs
	applied map[string]decodedMembers
}

// directoryInputs returns the snapshot's inputs for the named Okta groups,
// read again only when the snapshot's version moved or other groups are
// asked for. The version is read first: what is read after it is at least
// as new, so a change that lands meanwhile is read again next time.
func (s *Store) directoryInputs(ctx context.Context, oktaGroups []string) (*directoryInputs, error) {
	db := s.db.WithContext(ctx)
	var version int64
	if err := db.Raw("SELECT version FROM directory_version WHERE id = 1").Row().Scan(&version); err != nil {
		return nil, fmt.Errorf("reading the directory version: %w", err)
	}
	key := strings.Join(oktaGroups, "\x00")
	s.dir.mu.Lock()
	last := s.dir.last
	s.dir.mu.Unlock()
	if last != nil && last.version == version && last.groups == key {
		return last, nil
	}
	in := &directoryInputs{version: version, groups: key, departed: map[string]bool{}, absent: map[string]bool{}, members: map[string][]string{}}
	var gone []struct{ Email, Status string }
	err := db.Model(&DirectoryUser{}).Select("email, status").
		Where("status NOT IN ? AND email <> ''", PresentStatuses).
		Where("email NOT IN (?)", db.Model(&DirectoryUser{}).Select("email").Where("status IN ?", PresentStatuses)).
		Scan(&gone).Error
	if err != nil {
		return nil, fmt.Errorf("reading departed users: %w", err)
	}
	for _, u := range gone {
		in.absent[u.Email] = true
		if slices.Contains(DepartedStatuses, u.Status) {
			in.departed[u.Email] = true
		}
	}
	if len(oktaGroups) > 0 {
		rows, err := db.Table("directory_memberships m").
			Select("g.name, u.email").
			Joins("JOIN directory_groups g ON g.id = m.group_id").
			Joins("JOIN directory_users u ON u.id = m.user_id").
			Where("g.name IN ? AND u.status IN ? AND u.email <> ''", oktaGroups, PresentStatuses).
			Rows()
		if err != nil {
			return nil, fmt.Errorf("reading synced group members: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var group, email string
			if err := rows.Scan(&group, &email); err != nil {
				return nil, fmt.Errorf("reading synced group members: %w", err)
			}
			in.members[group] = append(in.members[group], email)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading synced group members: %w", err)
		}
		if in.read, err = s.readOktaGroups(ctx, oktaGroups); err != nil {
			return nil, err
		}
	}
	s.dir.mu.Lock()
	if s.dir.last == nil || s.dir.last.version <= version {
		s.dir.last = in
	}
	s.dir.mu.Unlock()
	return in, nil
}

// bumpDirectoryVersion moves directory_version first thing in a transaction
// that writes the snapshot: every writer then takes its row lock before any
// snapshot row's (PostgreSQL's triggers move it again after each statement,
// for writers that do not, such as a hand edit).
func bumpDirectoryVersion(tx *gorm.DB) error {
	if err := tx.Exec("UPDATE directory_version SET version = version + 1 WHERE id = 1").Error; err != nil {
		return fmt.Errorf("moving the directory version: %w", err)
	}
	return nil
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
func (s *Store) runningGrantHolders(ctx context.Context, now time.Time, absent map[string]bool) (map[string][]string, error) {
	var rows []Grant
	err := s.db.WithContext(ctx).Select("group_name", "user_email").
		Where("status = ? AND expires_at > ?", GrantActive, now.UTC()).
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("reading active grants: %w", err)
	}
	out := map[string][]string{}
	for _, g := range rows {
		if !absent[g.UserEmail] {
			out[g.GroupName] = append(out[g.GroupName], g.UserEmail)
		}
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
