package grants

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/accessportal/portal/grants/database"
)

// ErrUnknownCursor says a page was asked for after a row that does not exist.
var ErrUnknownCursor = errors.New("no such row to continue after")

// ResourceGrantCount is how many active grants a resource has, and how many
// of them the tailnet policy does not hold yet.
type ResourceGrantCount struct {
	Resource  string
	Active    int64
	Unapplied int64
}

// activeGrantsByResource queries grants through the partial index of
// active grants by resource and grantee (migration 00007).
func (s *Store) activeGrantsByResource(ctx context.Context) *gorm.DB {
	return s.grantsIndexed(ctx, "grants_active_resource_idx")
}

// grantsIndexed queries grants through a partial index. Queries on it
// repeat its condition (status = 'active' …) literally, which the index
// requires; SQLite, which has no statistics to prefer it, is told to use
// it.
func (s *Store) grantsIndexed(ctx context.Context, index string) *gorm.DB {
	db := s.db.WithContext(ctx)
	if s.db.Dialect == database.SQLite {
		return db.Table("grants INDEXED BY " + index)
	}
	return db.Table("grants")
}

// ActiveGrantCounts counts the active grants of every resource that has
// some, and those the tailnet policy does not hold yet, in one query on the
// index's entries alone (it holds applied_at): COUNT(applied_at) rather
// than a CASE for each grant, which cost half as much again.
func (s *Store) ActiveGrantCounts(ctx context.Context) ([]ResourceGrantCount, error) {
	var counts []ResourceGrantCount
	err := s.activeGrantsByResource(ctx).
		Select("resource, COUNT(*) AS active, COUNT(*) - COUNT(applied_at) AS unapplied").
		Where("status = 'active'").Group("resource").Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("counting active grants: %w", err)
	}
	return counts, nil
}

// ActiveGrantsPage reads one page of at most size active grants ordered by
// resource and grantee, after the grant with id after (keyset: a grantee
// holds at most one active grant per resource). resource keeps one
// resource's grants, user those whose grantee's email contains it. An
// unknown after is ErrUnknownCursor.
//
// The page's resources and grantees are read on the index alone, then its
// grants: the filters are checked on index entries, never row by row. (On
// PostgreSQL a prepared query's generic plan walks the index in order
// whatever the filter; reading every row it passed cost 45 ms for a rare
// grantee at 100,000 active grants.)
func (s *Store) ActiveGrantsPage(ctx context.Context, user, resource string, after int64, size int) ([]Grant, bool, error) {
	tx := s.activeGrantsByResource(ctx).Where("status = 'active'")
	if resource != "" {
		tx = tx.Where("resource = ?", resource)
	}
	if user != "" {
		tx = tx.Where(s.emailContains("user_email", user))
	}
	if after > 0 {
		var cur Grant
		err := s.db.WithContext(ctx).Select("resource", "user_email").Where("id = ?", after).Take(&cur).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, false, fmt.Errorf("grant %d: %w", after, ErrUnknownCursor)
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading grant %d: %w", after, err)
		}
		tx = tx.Where("resource > ? OR (resource = ? AND user_email > ?)", cur.Resource, cur.Resource, cur.UserEmail)
	}
	var keys []Grant
	if err := tx.Select("resource", "user_email").Order("resource, user_email").Limit(size + 1).Find(&keys).Error; err != nil {
		return nil, false, fmt.Errorf("listing active grants: %w", err)
	}
	more := len(keys) > size
	keys = keys[:min(len(keys), size)]
	rows, err := s.activeGrantsAt(ctx, keys)
	return rows, more, err
}

// activeGrantsAt reads the active grants of these resources and grantees,
// in their order.
func (s *Store) activeGrantsAt(ctx context.Context, keys []Grant) ([]Grant, error) {
	rows := make([]Grant, 0, len(keys))
	if len(keys) == 0 {
		return rows, nil
	}
	emails := make([]string, len(keys))
	for i, k := range keys {
		emails[i] = k.UserEmail
	}
	var holds []Grant
	err := s.grantsIndexed(ctx, "grants_one_active_idx").Where("status = 'active' AND user_email IN ?", emails).Find(&holds).Error
	if err != nil {
		return nil, fmt.Errorf("reading active grants: %w", err)
	}
	type key struct{ resource, email string }
	byKey := make(map[key]Grant, len(holds))
	for _, g := range holds {
		byKey[key{g.Resource, g.UserEmail}] = g
	}
	for _, k := range keys {
		if g, ok := byKey[key{k.Resource, k.UserEmail}]; ok {
			rows = append(rows, g)
		}
	}
	return rows, nil
}

// ActiveGrantsOf reads the active grants of these people, soonest to expire
// first.
func (s *Store) ActiveGrantsOf(ctx context.Context, emails []string) ([]Grant, error) {
	var holds []Grant
	if len(emails) == 0 {
		return holds, nil
	}
	err := s.db.WithContext(ctx).Where("user_email IN ? AND status = ?", emails, GrantActive).Order("expires_at").Find(&holds).Error
	if err != nil {
		return nil, fmt.Errorf("reading active grants: %w", err)
	}
	return holds, nil
}

// EndedGrantsOf reads one page of the grants of email that ended, newest first.
func (s *Store) EndedGrantsOf(ctx context.Context, email string, p Page) ([]Grant, bool, error) {
	var ended []Grant
	more, err := keysetPage(s.db.WithContext(ctx).Where("user_email = ? AND status <> ?", email, GrantActive), p, &ended)
	if err != nil {
		return nil, false, fmt.Errorf("reading %s's ended grants: %w", email, err)
	}
	return ended, more, nil
}

// CountActiveGrants counts the active grants of a resource.
func (s *Store) CountActiveGrants(ctx context.Context, resource string) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Grant{}).Where("resource = ? AND status = ?", resource, GrantActive).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("counting active grants of %s: %w", resource, err)
	}
	return n, nil
}
