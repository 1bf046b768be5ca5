package grants

import (
	"fmt"
	"slices"

	"gorm.io/gorm"
)

// directoryGroupSize is how many present members (PresentStatuses, with an
// email) a group has in the directory snapshot (migration 00017). The
// snapshot's writers recount a group whenever they change its memberships
// or one of its members, so that pages read a group's size rather than
// count its members.
type directoryGroupSize struct {
	GroupID        string `gorm:"primaryKey"`
	PresentMembers int64
}

func (directoryGroupSize) TableName() string { return "directory_group_sizes" }

// presentMember reports whether a user counts as a member of their groups:
// present in Okta, with an email to put into the tailnet policy.
func presentMember(u DirectoryUser) bool { return Present(u.Status) && u.Email != "" }

// recountGroups recounts the present members of the groups with these ids
// in tx. A recount is whole, not a step up or down, so that a size is
// right after any change, whatever came before.
func recountGroups(tx *gorm.DB, ids []string) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for chunk := range slices.Chunk(ids, 500) {
		err := tx.Exec(`INSERT INTO directory_group_sizes (group_id, present_members)
			SELECT g.id, (SELECT COUNT(*) FROM directory_memberships m JOIN directory_users u ON u.id = m.user_id
				WHERE m.group_id = g.id AND u.status IN ? AND u.email <> '')
			FROM directory_groups g WHERE g.id IN ?
			ON CONFLICT (group_id) DO UPDATE SET present_members = excluded.present_members`, PresentStatuses, chunk).Error
		if err != nil {
			return fmt.Errorf("recounting directory group members: %w", err)
		}
	}
	return nil
}

// groupsOfUsers returns the ids of the groups these users are members of.
func groupsOfUsers(tx *gorm.DB, userIDs []string) ([]string, error) {
	var out []string
	for chunk := range slices.Chunk(userIDs, 500) {
		var ids []string
		if err := tx.Model(&DirectoryMembership{}).Distinct().Where("user_id IN ?", chunk).Pluck("group_id", &ids).Error; err != nil {
			return nil, fmt.Errorf("reading directory memberships: %w", err)
		}
		out = append(out, ids...)
	}
	return out, nil
}
