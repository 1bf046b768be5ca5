package grants

// This file keeps the directory snapshot tables (directory_users,
// directory_groups, directory_memberships) equal to what a poll read from
// Okta. The poll reads everything first; the snapshot is then changed in one
// transaction, so a read that did not complete never changes it.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DirectoryMeta is what a poll needs to know of the snapshot before reading
// Okta.
type DirectoryMeta struct {
	// Groups are the snapshot's groups, by id.
	Groups map[string]DirectoryGroup
	// UserCount is the number of users in the snapshot.
	UserCount int64
	// UserCursor is the newest users.last_updated; nil when none is known.
	UserCursor *time.Time
	// GroupCursor is the newest groups.last_updated or last_membership_updated.
	GroupCursor *time.Time
	// HasMembers are the groups with membership rows.
	HasMembers map[string]bool
	// Fingerprint changes whenever a poll writes the snapshot.
	Fingerprint string
}

// Empty reports whether the snapshot holds nothing yet.
func (m *DirectoryMeta) Empty() bool { return m.UserCount == 0 && len(m.Groups) == 0 }

// DirectoryRead is what a poll read from Okta, as snapshot rows.
type DirectoryRead struct {
	// Users read, by id: every user (full) or the changed ones, plus the
	// members of the groups listed.
	Users map[string]DirectoryUser
	// Groups read, by id: every group (full) or the changed ones.
	Groups map[string]DirectoryGroup
	// Members of the groups whose members were listed, by group id.
	Members map[string][]string
	// GoneUsers and GoneGroups were confirmed deleted (404), full polls only.
	GoneUsers  []string
	GoneGroups []string
	// Tracked are the groups whose memberships the snapshot holds after this
	// poll: the wanted ones.
	Tracked map[string]bool
}

// NewDirectoryRead returns an empty read.
func NewDirectoryRead() *DirectoryRead {
	return &DirectoryRead{
		Users:   map[string]DirectoryUser{},
		Groups:  map[string]DirectoryGroup{},
		Members: map[string][]string{},
		Tracked: map[string]bool{},
	}
}

// AddUser keeps the newest copy of a user read more than once.
func (r *DirectoryRead) AddUser(u DirectoryUser) {
	if u.ID == "" {
		return
	}
	if old, ok := r.Users[u.ID]; ok && old.LastUpdated != nil && u.LastUpdated != nil && old.LastUpdated.After(*u.LastUpdated) {
		return
	}
	r.Users[u.ID] = u
}

// DirectoryChange says which users and groups a poll changed.
type DirectoryChange struct {
	// Users are the Okta user ids whose status, email, name or membership
	// changed, who appeared, or who vanished; sorted.
	Users []string
	// Groups are the Okta group ids whose name or membership changed, which
	// appeared, or which vanished; sorted.
	Groups []string
}

// DirectoryMeta reads what a poll needs to know of the snapshot.
func (s *Store) DirectoryMeta(ctx context.Context) (*DirectoryMeta, error) {
	db := s.db.WithContext(ctx)
	m := &DirectoryMeta{Groups: map[string]DirectoryGroup{}, HasMembers: map[string]bool{}}
	var groups []DirectoryGroup
	if err := db.Find(&groups).Error; err != nil {
		return nil, fmt.Errorf("reading directory groups: %w", err)
	}
	for _, g := range groups {
		m.Groups[g.ID] = g
		m.GroupCursor = later(m.GroupCursor, g.LastUpdated)
		m.GroupCursor = later(m.GroupCursor, g.LastMembershipUpdated)
	}
	if err := db.Model(&DirectoryUser{}).Count(&m.UserCount).Error; err != nil {
		return nil, fmt.Errorf("counting directory users: %w", err)
	}
	var newest []DirectoryUser
	err := db.Select("id", "last_updated").Where("last_updated IS NOT NULL").
		Order("last_updated DESC").Limit(1).Find(&newest).Error
	if err != nil {
		return nil, fmt.Errorf("reading the newest directory user: %w", err)
	}
	if len(newest) == 1 {
		m.UserCursor = newest[0].LastUpdated
	}
	var ids []string
	if err := db.Model(&DirectoryMembership{}).Distinct().Pluck("group_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("reading directory memberships: %w", err)
	}
	for _, id := range ids {
		m.HasMembers[id] = true
	}
	if m.Fingerprint, err = s.DirectoryFingerprint(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// DirectoryFingerprint changes whenever a poll writes the snapshot: every
// row a poll writes gets a new synced_at.
func (s *Store) DirectoryFingerprint(ctx context.Context) (string, error) {
	var b strings.Builder
	for _, q := range []string{
		"SELECT COUNT(*), MAX(synced_at) FROM directory_users",
		"SELECT COUNT(*), MAX(synced_at) FROM directory_groups",
		"SELECT COUNT(*), MAX(group_id) FROM directory_memberships",
	} {
		var n int64
		var v *string
		if err := s.db.WithContext(ctx).Raw(q).Row().Scan(&n, &v); err != nil {
			return "", fmt.Errorf("fingerprinting the directory snapshot: %w", err)
		}
		fmt.Fprintf(&b, "%d/", n)
		if v != nil {
			b.WriteString(*v)
		}
		b.WriteString(";")
	}
	return b.String(), nil
}

// DirectoryUserIDs returns the ids of every user in the snapshot, sorted.
func (s *Store) DirectoryUserIDs(ctx context.Context) ([]string, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Model(&DirectoryUser{}).Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("reading directory users: %w", err)
	}
	return ids, nil
}

// ApplyDirectoryRead makes the snapshot equal to a poll's read in one
// transaction and says what changed. meta is the snapshot as the poll found
// it; full marks every row as confirmed (synced_at = now).
func (s *Store) ApplyDirectoryRead(ctx context.Context, meta *DirectoryMeta, read *DirectoryRead, full bool, now time.Time) (DirectoryChange, error) {
	var change DirectoryChange
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := bumpDirectoryVersion(tx); err != nil {
			return err
		}
		c, err := diffDirectory(tx, meta, read, now)
		if err != nil {
			return err
		}
		if err := c.apply(tx, full, now); err != nil {
			return err
		}
		if err := c.recount(tx); err != nil {
			return err
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&SyncStatus{ID: 1}).Error; err != nil {
			return fmt.Errorf("recording the directory read: %w", err)
		}
		if err := tx.Model(&SyncStatus{}).Where("id = 1").Update("directory_read_at", now.UTC()).Error; err != nil {
			return fmt.Errorf("recording the directory read: %w", err)
		}
		change = DirectoryChange{Users: slices.Sorted(maps.Keys(c.usersChanged)), Groups: slices.Sorted(maps.Keys(c.groupsChanged))}
		return nil
	})
	if err != nil {
		return DirectoryChange{}, fmt.Errorf("writing the directory snapshot: %w", err)
	}
	return change, nil
}

// DirectoryComplete reports whether a poll has completed a read of Okta into
// the snapshot: until then the synced groups are not known.
func (s *Store) DirectoryComplete(ctx context.Context) (bool, error) {
	var st SyncStatus
	if err := s.db.WithContext(ctx).Where("id = 1").Limit(1).Find(&st).Error; err != nil {
		return false, fmt.Errorf("reading sync status: %w", err)
	}
	return st.DirectoryReadAt != nil, nil
}

// SaveDirectoryUser stores one user re-read from Okta (an event hook's
// subject), keeping their memberships; their groups are recounted when
// whether they count as a member changed.
func (s *Store) SaveDirectoryUser(ctx context.Context, u DirectoryUser) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := bumpDirectoryVersion(tx); err != nil {
			return err
		}
		var old DirectoryUser
		if err := tx.Select("status", "email").Where("id = ?", u.ID).Limit(1).Find(&old).Error; err != nil {
			return err
		}
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"login", "email", "name", "status", "last_updated", "synced_at"}),
		}).Create(&u).Error
		if err != nil || presentMember(old) == presentMember(u) {
			return err
		}
		groups, err := groupsOfUsers(tx, []string{u.ID})
		if err != nil {
			return err
		}
		return recountGroups(tx, groups)
	})
	if err != nil {
		return fmt.Errorf("storing user %s: %w", u.ID, err)
	}
	return nil
}

// MarkDirectoryUserDeleted records that Okta no longer knows a user (404):
// the row stays, as DELETED, so the offboarding cascade knows who left; the
// memberships go.
func (s *Store) MarkDirectoryUserDeleted(ctx context.Context, id string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := bumpDirectoryVersion(tx); err != nil {
			return err
		}
		groups, err := groupsOfUsers(tx, []string{id})
		if err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", id).Delete(&DirectoryMembership{}).Error; err != nil {
			return err
		}
		if err := tx.Model(&DirectoryUser{}).Where("id = ?", id).Update("status", StatusDeleted).Error; err != nil {
			return err
		}
		return recountGroups(tx, groups)
	})
	if err != nil {
		return fmt.Errorf("recording deleted user %s: %w", id, err)
	}
	return nil
}

// directoryDiff is the difference between the snapshot and a read.
type directoryDiff struct {
	upsertUsers   []DirectoryUser
	upsertGroups  []DirectoryGroup
	addMembers    []DirectoryMembership
	removeMembers map[string][]string // group id -> user ids
	dropGroups    []string            // groups whose memberships are no longer followed
	goneUsers     []string
	goneGroups    []string
	usersChanged  map[string]bool
	groupsChanged map[string]bool
	tracked       []string // groups whose memberships the snapshot follows after this read
}

func diffDirectory(tx *gorm.DB, meta *DirectoryMeta, read *DirectoryRead, now time.Time) (*directoryDiff, error) {
	c := &directoryDiff{removeMembers: map[string][]string{}, usersChanged: map[string]bool{}, groupsChanged: map[string]bool{}}
	if err := c.diffUsers(tx, read, now); err != nil {
		return nil, err
	}
	c.diffGroups(meta, read, now)
	c.tracked = slices.Sorted(maps.Keys(read.Tracked))
	if err := c.diffMembers(tx, meta, read); err != nil {
		return nil, err
	}
	// A group whose row changes because members were listed is rewritten
	// even when nothing else changed, so that its synced_at moves.
	for _, gid := range slices.Sorted(maps.Keys(read.Members)) {
		if c.groupsChanged[gid] && !slices.ContainsFunc(c.upsertGroups, func(g DirectoryGroup) bool { return g.ID == gid }) {
			if old, ok := meta.Groups[gid]; ok {
				old.SyncedAt = now
				c.upsertGroups = append(c.upsertGroups, old)
			}
		}
	}
	return c, nil
}

func (c *directoryDiff) diffUsers(tx *gorm.DB, read *DirectoryRead, now time.Time) error {
	stored, err := directoryUsers(tx, slices.Collect(maps.Keys(read.Users)))
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(read.Users)) {
		row := read.Users[id]
		row.SyncedAt = now
		old, ok := stored[id]
		switch {
		case !ok:
			c.usersChanged[id] = true
		case old.Status != row.Status || old.Email != row.Email || old.Name != row.Name:
			c.usersChanged[id] = true
		case old.Login == row.Login && sameTime(old.LastUpdated, row.LastUpdated):
			continue // nothing to write
		}
		c.upsertUsers = append(c.upsertUsers, row)
	}
	c.goneUsers = read.GoneUsers
	for _, id := range c.goneUsers {
		c.usersChanged[id] = true
	}
	return nil
}

func (c *directoryDiff) diffGroups(meta *DirectoryMeta, read *DirectoryRead, now time.Time) {
	for _, id := range slices.Sorted(maps.Keys(read.Groups)) {
		row := read.Groups[id]
		row.SyncedAt = now
		old, ok := meta.Groups[id]
		switch {
		case !ok, old.Name != row.Name:
			c.groupsChanged[id] = true
		case old.Description == row.Description && sameTime(old.LastUpdated, row.LastUpdated) &&
			sameTime(old.LastMembershipUpdated, row.LastMembershipUpdated):
			continue
		}
		c.upsertGroups = append(c.upsertGroups, row)
	}
	c.goneGroups = read.GoneGroups
	for _, id := range c.goneGroups {
		c.groupsChanged[id] = true
	}
}

// diffMembers replaces the listed groups' memberships and drops the groups
// no longer wanted; the gone users' and groups' rows go with them.
func (c *directoryDiff) diffMembers(tx *gorm.DB, meta *DirectoryMeta, read *DirectoryRead) error {
	touched := slices.Collect(maps.Keys(read.Members))
	gone := setOf(c.goneGroups)
	for id := range meta.HasMembers {
		if !read.Tracked[id] && !gone[id] {
			c.dropGroups = append(c.dropGroups, id)
			touched = append(touched, id)
		}
	}
	touched = append(touched, c.goneGroups...)
	slices.Sort(c.dropGroups)
	before, err := directoryMembers(tx, touched, c.goneUsers)
	if err != nil {
		return err
	}
	for _, gid := range slices.Sorted(maps.Keys(read.Members)) {
		have, want := setOf(before[gid]), setOf(read.Members[gid])
		for _, uid := range slices.Sorted(maps.Keys(want)) {
			if !have[uid] {
				c.addMembers = append(c.addMembers, DirectoryMembership{GroupID: gid, UserID: uid})
				c.usersChanged[uid], c.groupsChanged[gid] = true, true
			}
		}
		for _, uid := range slices.Sorted(maps.Keys(have)) {
			if !want[uid] {
				c.removeMembers[gid] = append(c.removeMembers[gid], uid)
				c.usersChanged[uid], c.groupsChanged[gid] = true, true
			}
		}
	}
	goneUsers := setOf(c.goneUsers)
	for gid, uids := range before {
		if read.Members[gid] != nil {
			continue
		}
		// Dropped or deleted groups, and gone users' other memberships.
		for _, uid := range uids {
			if gone[gid] || slices.Contains(c.dropGroups, gid) || goneUsers[uid] {
				c.usersChanged[uid], c.groupsChanged[gid] = true, true
			}
		}
	}
	return nil
}

func (c *directoryDiff) apply(tx *gorm.DB, full bool, now time.Time) error {
	upsert := clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, UpdateAll: true}
	if len(c.upsertUsers) > 0 {
		if err := tx.Clauses(upsert).CreateInBatches(c.upsertUsers, 500).Error; err != nil {
			return fmt.Errorf("saving directory users: %w", err)
		}
	}
	if len(c.upsertGroups) > 0 {
		if err := tx.Clauses(upsert).CreateInBatches(c.upsertGroups, 500).Error; err != nil {
			return fmt.Errorf("saving directory groups: %w", err)
		}
	}
	for _, gid := range slices.Sorted(maps.Keys(c.removeMembers)) {
		for chunk := range slices.Chunk(c.removeMembers[gid], 500) {
			if err := tx.Where("group_id = ? AND user_id IN ?", gid, chunk).Delete(&DirectoryMembership{}).Error; err != nil {
				return fmt.Errorf("removing members of group %s: %w", gid, err)
			}
		}
	}
	for chunk := range slices.Chunk(c.dropGroups, 500) {
		if err := tx.Where("group_id IN ?", chunk).Delete(&DirectoryMembership{}).Error; err != nil {
			return fmt.Errorf("dropping memberships of groups no longer wanted: %w", err)
		}
	}
	if len(c.addMembers) > 0 {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(c.addMembers, 1000).Error; err != nil {
			return fmt.Errorf("saving directory memberships: %w", err)
		}
	}
	if err := c.removeGone(tx); err != nil {
		return err
	}
	if err := c.stampMembersRead(tx, now); err != nil {
		return err
	}
	if full {
		// A full poll confirmed every row.
		all := tx.Session(&gorm.Session{AllowGlobalUpdate: true})
		if err := all.Model(&DirectoryUser{}).Update("synced_at", now).Error; err != nil {
			return fmt.Errorf("stamping directory users: %w", err)
		}
		if err := all.Model(&DirectoryGroup{}).Update("synced_at", now).Error; err != nil {
			return fmt.Errorf("stamping directory groups: %w", err)
		}
	}
	return nil
}

// recount recounts the present members of the groups the read changed and
// of the groups of the users it changed (a new status or email may change
// whether they count). It runs last, after every user row is written, so
// that a hook's write of one user and its groups never waits on the poll
// in the opposite order.
func (c *directoryDiff) recount(tx *gorm.DB) error {
	groups, err := groupsOfUsers(tx, slices.Sorted(maps.Keys(c.usersChanged)))
	if err != nil {
		return err
	}
	return recountGroups(tx, append(groups, slices.Collect(maps.Keys(c.groupsChanged))...))
}

// stampMembersRead records which groups' members the snapshot now holds:
// a group followed from now on is read (at now), a dropped one is not.
func (c *directoryDiff) stampMembersRead(tx *gorm.DB, now time.Time) error {
	for chunk := range slices.Chunk(c.dropGroups, 500) {
		if err := tx.Model(&DirectoryGroup{}).Where("id IN ?", chunk).Update("members_read_at", nil).Error; err != nil {
			return fmt.Errorf("forgetting the members of groups no longer followed: %w", err)
		}
	}
	for chunk := range slices.Chunk(c.tracked, 500) {
		err := tx.Model(&DirectoryGroup{}).Where("id IN ? AND members_read_at IS NULL", chunk).Update("members_read_at", now.UTC()).Error
		if err != nil {
			return fmt.Errorf("recording the groups whose members were read: %w", err)
		}
	}
	return nil
}

// removeGone deletes the users and groups Okta confirmed deleted. Deleting
// a user or group deletes its memberships (ON DELETE CASCADE); they are
// deleted explicitly too, as the cascade needs SQLite's foreign_keys pragma.
func (c *directoryDiff) removeGone(tx *gorm.DB) error {
	for chunk := range slices.Chunk(c.goneGroups, 500) {
		if err := tx.Where("group_id IN ?", chunk).Delete(&DirectoryMembership{}).Error; err != nil {
			return fmt.Errorf("removing memberships of deleted groups: %w", err)
		}
		if err := tx.Where("id IN ?", chunk).Delete(&DirectoryGroup{}).Error; err != nil {
			return fmt.Errorf("removing deleted groups: %w", err)
		}
	}
	for chunk := range slices.Chunk(c.goneUsers, 500) {
		if err := tx.Where("user_id IN ?", chunk).Delete(&DirectoryMembership{}).Error; err != nil {
			return fmt.Errorf("removing memberships of deleted users: %w", err)
		}
		if err := tx.Where("id IN ?", chunk).Delete(&DirectoryUser{}).Error; err != nil {
			return fmt.Errorf("removing deleted users: %w", err)
		}
	}
	return nil
}

func directoryUsers(tx *gorm.DB, ids []string) (map[string]DirectoryUser, error) {
	out := make(map[string]DirectoryUser, len(ids))
	for chunk := range slices.Chunk(ids, 500) {
		var rows []DirectoryUser
		if err := tx.Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("reading directory users: %w", err)
		}
		for _, u := range rows {
			out[u.ID] = u
		}
	}
	return out, nil
}

// directoryMembers returns the member ids of the groups and the memberships
// of the users, by group id.
func directoryMembers(tx *gorm.DB, groupIDs, userIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	seen := map[DirectoryMembership]bool{}
	for _, by := range []struct {
		column string
		ids    []string
	}{{"group_id", groupIDs}, {"user_id", userIDs}} {
		for chunk := range slices.Chunk(by.ids, 500) {
			var rows []DirectoryMembership
			if err := tx.Where(by.column+" IN ?", chunk).Find(&rows).Error; err != nil {
				return nil, fmt.Errorf("reading directory memberships: %w", err)
			}
			for _, m := range rows {
				if !seen[m] {
					seen[m] = true
					out[m.GroupID] = append(out[m.GroupID], m.UserID)
				}
			}
		}
	}
	return out, nil
}

func later(a, b *time.Time) *time.Time {
	if b == nil || (a != nil && !b.After(*a)) {
		return a
	}
	return b
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func setOf(s []string) map[string]bool {
	out := make(map[string]bool, len(s))
	for _, v := range s {
		out[v] = true
	}
	return out
}
