package grants

import (
	"context"
	"fmt"
)

// LastAuditEvent reads the newest audit event of this action; nil when
// there is none.
func (s *Store) LastAuditEvent(ctx context.Context, action string) (*AuditEvent, error) {
	var ev []AuditEvent
	if err := s.db.WithContext(ctx).Where("action = ?", action).Order("id DESC").Limit(1).Find(&ev).Error; err != nil {
		return nil, fmt.Errorf("reading the last %s: %w", action, err)
	}
	if len(ev) == 0 {
		return nil, nil
	}
	return &ev[0], nil
}

// GroupSyncHistory reads the reconciler's newest limit sync.apply events
// whose details name the Tailscale group, newest first.
func (s *Store) GroupSyncHistory(ctx context.Context, group string, limit int) ([]AuditEvent, error) {
	var events []AuditEvent
	pattern := likeContains(`"` + group + `":`)
	err := s.db.WithContext(ctx).Where(`action = ? AND details LIKE ? ESCAPE '\'`, "sync.apply", pattern).
		Order("id DESC").Limit(limit).Find(&events).Error
	if err != nil {
		return nil, fmt.Errorf("reading sync history of %s: %w", group, err)
	}
	return events, nil
}
