package grants

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Grant statuses.
const (
	GrantActive  = "active"
	GrantExpired = "expired"
	GrantRevoked = "revoked"
)

// Grant is a time-limited membership of a user in a resource's Tailscale group.
type Grant struct {
	ID           int64      `gorm:"primaryKey" json:"id"`
	RequestID    *int64     `json:"requestId"`
	Resource     string     `json:"resource"`
	UserEmail    string     `json:"user"`
	GroupName    string     `json:"group"`
	StartsAt     time.Time  `json:"startsAt"`
	ExpiresAt    time.Time  `json:"expiresAt"`
	Status       string     `json:"status"`
	AppliedAt    *time.Time `json:"appliedAt"`
	RemovedAt    *time.Time `json:"removedAt"`
	RevokedBy    string     `json:"revokedBy"`
	RevokeReason string     `json:"revokeReason"`
	GrantedBy    string     `json:"-"`
	Reason       string     `json:"-"`
}

// ActiveGrantHolders returns, per Tailscale group, the emails holding an
// active grant.
func ActiveGrantHolders(ctx context.Context, db *gorm.DB) (map[string][]string, error) {
	var rows []Grant
	if err := db.WithContext(ctx).Select("group_name", "user_email").Where("status = ?", GrantActive).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("reading active grants: %w", err)
	}
	out := map[string][]string{}
	for _, g := range rows {
		out[g.GroupName] = append(out[g.GroupName], g.UserEmail)
	}
	return out, nil
}

// ConfirmGrants records what a confirmed policy shows: active grants whose
// user is in their group are applied at now; ended grants whose user is no
// longer in it are removed at now. members holds the confirmed members of
// each managed group. It returns the grants it stamped.
func ConfirmGrants(ctx context.Context, db *gorm.DB, members map[string][]string, now time.Time) (applied, removed []Grant, err error) {
	in := func(group, email string) bool {
		for _, m := range members[group] {
			if m == email {
				return true
			}
		}
		return false
	}
	var pending []Grant
	err = db.WithContext(ctx).Where(
		"(status = ? AND applied_at IS NULL) OR (status <> ? AND removed_at IS NULL)", GrantActive, GrantActive,
	).Find(&pending).Error
	if err != nil {
		return nil, nil, fmt.Errorf("reading grants to confirm: %w", err)
	}
	t := now.UTC()
	for _, g := range pending {
		if _, managed := members[g.GroupName]; !managed {
			continue
		}
		present := in(g.GroupName, g.UserEmail)
		switch {
		case g.Status == GrantActive && present:
			res := db.WithContext(ctx).Model(&Grant{}).Where("id = ? AND applied_at IS NULL", g.ID).Update("applied_at", t)
			if res.Error != nil {
				return applied, removed, res.Error
			}
			if res.RowsAffected == 1 {
				g.AppliedAt = &t
				applied = append(applied, g)
			}
		case g.Status != GrantActive && !present:
			res := db.WithContext(ctx).Model(&Grant{}).Where("id = ? AND removed_at IS NULL", g.ID).Update("removed_at", t)
			if res.Error != nil {
				return applied, removed, res.Error
			}
			if res.RowsAffected == 1 {
				g.RemovedAt = &t
				removed = append(removed, g)
			}
		}
	}
	return applied, removed, nil
}
