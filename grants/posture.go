package grants

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DevicePosture is the posture attribute the portal set on one device of a
// grantee for a grant: the second lock, which Tailscale ends by itself at
// ExpiresAt.
type DevicePosture struct {
	GrantID    int64  `gorm:"primaryKey"`
	DeviceID   string `gorm:"primaryKey"`
	DeviceName string
	AttrKey    string
	ExpiresAt  time.Time
	SetAt      time.Time
	// ConfirmedAt is when Tailscale was read back holding the attribute
	// with this expiry; nil until then.
	ConfirmedAt *time.Time
	// RemovedAt is when the attribute was deleted (the grant ended).
	RemovedAt *time.Time
}

// TableName is the table of device postures.
func (DevicePosture) TableName() string { return "device_postures" }

// PostureGrant is a running grant on a resource with a device posture.
type PostureGrant struct {
	ID        int64
	User      string
	Resource  string
	ExpiresAt time.Time
}

// PostureGrants returns the grants running at now on the named resources.
func (s *Store) PostureGrants(ctx context.Context, resources []string, now time.Time) ([]PostureGrant, error) {
	if len(resources) == 0 {
		return nil, nil
	}
	var rows []Grant
	err := s.db.WithContext(ctx).Select("id", "user_email", "resource", "expires_at").
		Where("status = ? AND expires_at > ? AND resource IN ?", GrantActive, now.UTC(), resources).Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("reading grants with a device posture: %w", err)
	}
	out := make([]PostureGrant, len(rows))
	for i, g := range rows {
		out[i] = PostureGrant{ID: g.ID, User: g.UserEmail, Resource: g.Resource, ExpiresAt: g.ExpiresAt}
	}
	return out, nil
}

// OpenPostures returns the device postures set and not removed.
func (s *Store) OpenPostures(ctx context.Context) ([]DevicePosture, error) {
	var rows []DevicePosture
	if err := s.db.WithContext(ctx).Where("removed_at IS NULL").Order("grant_id, device_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("reading device postures: %w", err)
	}
	return rows, nil
}

// RecordPostureSet records that the attribute was set on a device for a
// grant (confirmed when Tailscale was read back holding it), audited.
func (s *Store) RecordPostureSet(ctx context.Context, p DevicePosture, confirmed bool, now time.Time) error {
	p.SetAt, p.RemovedAt, p.ConfirmedAt = now.UTC(), nil, nil
	if confirmed {
		t := now.UTC()
		p.ConfirmedAt = &t
	}
	p.ExpiresAt = p.ExpiresAt.UTC()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "grant_id"}, {Name: "device_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"device_name", "attr_key", "expires_at", "set_at", "confirmed_at", "removed_at"}),
		}).Create(&p).Error
		if err != nil {
			return fmt.Errorf("recording device posture: %w", err)
		}
		return AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: "posture.set", Target: fmt.Sprintf("grant:%d", p.GrantID),
			Details: map[string]any{"device": p.DeviceName, "deviceId": p.DeviceID, "attribute": p.AttrKey, "expiry": p.ExpiresAt, "confirmed": confirmed}})
	})
}

// RecordPostureRemoved records that a grant's attribute left a device (the
// grant ended, or the device is gone), audited.
func (s *Store) RecordPostureRemoved(ctx context.Context, p DevicePosture, reason string, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Model(&DevicePosture{}).Where("grant_id = ? AND device_id = ?", p.GrantID, p.DeviceID).
			Update("removed_at", now.UTC()).Error
		if err != nil {
			return fmt.Errorf("recording device posture removal: %w", err)
		}
		return AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: "posture.remove", Target: fmt.Sprintf("grant:%d", p.GrantID),
			Details: map[string]any{"device": p.DeviceName, "deviceId": p.DeviceID, "attribute": p.AttrKey, "reason": reason}})
	})
}

// PostureCount is how many of a grant's devices carry its attribute.
type PostureCount struct {
	Confirmed, Devices int
}

// PostureCounts returns, per grant, how many devices carry the grant's
// posture attribute as confirmed, of how many it was set on.
func (s *Store) PostureCounts(ctx context.Context, grantIDs []int64) (map[int64]PostureCount, error) {
	out := map[int64]PostureCount{}
	if len(grantIDs) == 0 {
		return out, nil
	}
	var rows []DevicePosture
	if err := s.db.WithContext(ctx).Where("grant_id IN ? AND removed_at IS NULL", grantIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("reading device postures: %w", err)
	}
	for _, p := range rows {
		c := out[p.GrantID]
		c.Devices++
		if p.ConfirmedAt != nil {
			c.Confirmed++
		}
		out[p.GrantID] = c
	}
	return out, nil
}
