package grants

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// DirectoryGroupByName reads the snapshot's Okta group of that name; the
// zero group when there is none.
func (s *Store) DirectoryGroupByName(ctx context.Context, name string) (DirectoryGroup, error) {
	var g DirectoryGroup
	if err := s.db.WithContext(ctx).Where("name = ?", name).Limit(1).Find(&g).Error; err != nil {
		return g, fmt.Errorf("reading Okta group %s: %w", name, err)
	}
	return g, nil
}

// SearchDirectoryGroups reads at most limit of the snapshot's Okta groups
// whose name contains q (case-insensitive; "" matches all), by name.
func (s *Store) SearchDirectoryGroups(ctx context.Context, q string, limit int) ([]DirectoryGroup, error) {
	tx := s.db.WithContext(ctx).Model(&DirectoryGroup{}).Order("name").Limit(limit)
	if q != "" {
		tx = tx.Where(`LOWER(name) LIKE ? ESCAPE '\'`, likeContains(strings.ToLower(q)))
	}
	var groups []DirectoryGroup
	if err := tx.Find(&groups).Error; err != nil {
		return nil, fmt.Errorf("searching Okta groups: %w", err)
	}
	return groups, nil
}

// ActiveMembersOf reads the ACTIVE members (email and name) of the
// snapshot's Okta group named okta, by email.
func (s *Store) ActiveMembersOf(ctx context.Context, okta string) ([]DirectoryUser, error) {
	var rows []DirectoryUser
	err := s.db.WithContext(ctx).Table("directory_memberships m").Select("DISTINCT u.email AS email, u.name AS name").
		Joins("JOIN directory_groups g ON g.id = m.group_id").
		Joins("JOIN directory_users u ON u.id = m.user_id").
		Where("g.name = ? AND u.status IN ? AND u.email <> ''", okta, PresentStatuses).
		Order("u.email").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("reading members of %s: %w", okta, err)
	}
	return rows, nil
}

// DirectoryGroupSize says how many snapshot groups carry a name and how
// many memberships of them the snapshot holds.
type DirectoryGroupSize struct {
	Groups      int64
	Memberships int64
}

// DirectoryGroupSizes counts, for each Okta group name, the snapshot's
// groups of that name and their memberships: two queries for all names.
// Names the snapshot does not know are absent.
func (s *Store) DirectoryGroupSizes(ctx context.Context, names []string) (map[string]DirectoryGroupSize, error) {
	out := map[string]DirectoryGroupSize{}
	if len(names) == 0 {
		return out, nil
	}
	db := s.db.WithContext(ctx)
	var groups []struct {
		Name string
		N    int64
	}
	if err := db.Model(&DirectoryGroup{}).Select("name, COUNT(*) AS n").Where("name IN ?", names).Group("name").Scan(&groups).Error; err != nil {
		return nil, fmt.Errorf("counting Okta groups: %w", err)
	}
	for _, g := range groups {
		out[g.Name] = DirectoryGroupSize{Groups: g.N}
	}
	var members []struct {
		Name string
		N    int64
	}
	err := db.Table("directory_memberships m").Select("g.name AS name, COUNT(*) AS n").
		Joins("JOIN directory_groups g ON g.id = m.group_id").Where("g.name IN ?", names).Group("g.name").Scan(&members).Error
	if err != nil {
		return nil, fmt.Errorf("counting Okta group members: %w", err)
	}
	for _, m := range members {
		size := out[m.Name]
		size.Memberships = m.N
		out[m.Name] = size
	}
	return out, nil
}

// presentMembers are the emails of the present members of the named Okta
// groups, sorted.
func presentMembers(ctx context.Context, tx *gorm.DB, groups []string) ([]string, error) {
	var out []string
	if len(groups) == 0 {
		return out, nil
	}
	err := tx.WithContext(ctx).Table("directory_users u").Distinct("u.email").
		Joins("JOIN directory_memberships m ON m.user_id = u.id").
		Joins("JOIN directory_groups g ON g.id = m.group_id").
		Where("g.name IN ? AND u.status IN ? AND u.email <> ''", groups, PresentStatuses).
		Order("u.email").Pluck("u.email", &out).Error
	if err != nil {
		return nil, fmt.Errorf("reading the portal admins: %w", err)
	}
	return out, nil
}
