package grants

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// endOverdueGrant marks an active grant whose expiresAt has passed as
// expired, as the sweeper would, with its grant.expire audit event: a grant
// past its end is over, swept or not, so a later approval makes a new grant
// rather than extending it across the gap. It reports whether g was
// overdue.
func endOverdueGrant(ctx context.Context, tx *gorm.DB, g *Grant, now time.Time) (bool, error) {
	if g.ID == 0 || g.ExpiresAt.After(dbTime(now)) {
		return false, nil
	}
	res := tx.Model(&Grant{}).Where("id = ? AND status = ?", g.ID, GrantActive).Update("status", GrantExpired)
	if res.Error != nil {
		return false, fmt.Errorf("expiring grant %d: %w", g.ID, res.Error)
	}
	err := AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: "grant.expire", Target: grantTarget(g.ID),
		Details: map[string]any{"user": g.UserEmail, "resource": g.Resource, "group": g.GroupName, "expiresAt": g.ExpiresAt.UTC()}})
	if err != nil {
		return false, err
	}
	g.Status = GrantExpired
	return true, nil
}
