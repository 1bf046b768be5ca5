package grants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SyncHold is a synced group held by the mass-removal brake.
type SyncHold struct {
	GroupName   string `gorm:"primaryKey" json:"group"`
	OktaGroup   string `json:"oktaGroup"`
	Removals    string `json:"-"` // JSON array of emails the pass wanted to remove
	Members     int    `json:"members"`
	HeldAt      time.Time
	ConfirmedBy string     `json:"confirmedBy"`
	ConfirmedAt *time.Time `json:"confirmedAt"`
}

// TableName is the table of holds.
func (SyncHold) TableName() string { return "sync_holds" }

// RemovalList decodes the members the held pass wanted to remove.
func (h *SyncHold) RemovalList() []string {
	var out []string
	if err := json.Unmarshal([]byte(h.Removals), &out); err != nil {
		return nil // written by Hold from a []string: never undecodable
	}
	return out
}

// Reason says in one line why the group is held.
func (h *SyncHold) Reason() string {
	return fmt.Sprintf("%s: %d of %d members would be removed (Okta group %q); confirm to proceed", h.GroupName, len(h.RemovalList()), h.Members, h.OktaGroup)
}

// ErrNoHold means there is no hold on that group.
var ErrNoHold = errors.New("no held removal for that group")

// HoldsByGroup returns every hold, confirmed or not, by group.
func (s *Store) HoldsByGroup(ctx context.Context) (map[string]SyncHold, error) {
	hs, err := s.Holds(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]SyncHold, len(hs))
	for _, h := range hs {
		out[h.GroupName] = h
	}
	return out, nil
}

// Holds lists the current holds by group name.
func (s *Store) Holds(ctx context.Context) ([]SyncHold, error) {
	var hs []SyncHold
	if err := s.db.WithContext(ctx).Order("group_name").Find(&hs).Error; err != nil {
		return nil, fmt.Errorf("reading holds: %w", err)
	}
	return hs, nil
}

// Hold records that the brake held a synced group's mass removal, audited;
// an existing hold of the group is kept as it is.
func (s *Store) Hold(ctx context.Context, group, okta string, removed []string, members int, now time.Time) error {
	b, err := json.Marshal(removed)
	if err != nil {
		return fmt.Errorf("encoding held removals: %w", err)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		h := SyncHold{GroupName: group, OktaGroup: okta, Removals: string(b), Members: members, HeldAt: now.UTC()}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&h).Error; err != nil {
			return fmt.Errorf("recording hold: %w", err)
		}
		return AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: "sync.hold", Target: group,
			Details: map[string]any{"oktaGroup": okta, "wouldRemove": removed, "members": members,
				"reason": fmt.Sprintf("would remove %d of %d members of %s at once", len(removed), members, group)}})
	})
}

// DropHold forgets the hold of a group (its removal no longer trips the brake).
func (s *Store) DropHold(ctx context.Context, group string) error {
	if err := s.db.WithContext(ctx).Where("group_name = ?", group).Delete(&SyncHold{}).Error; err != nil {
		return fmt.Errorf("dropping the hold of %s: %w", group, err)
	}
	return nil
}

// DropUsedHolds forgets the confirmed holds whose removals are all in the
// confirmed policy (members by group): a confirmation is used up once.
func (s *Store) DropUsedHolds(ctx context.Context, members map[string][]string) error {
	var hs []SyncHold
	if err := s.db.WithContext(ctx).Where("confirmed_at IS NOT NULL").Find(&hs).Error; err != nil {
		return fmt.Errorf("reading confirmed holds: %w", err)
	}
	for _, h := range hs {
		m, managed := members[h.GroupName]
		if !managed || slices.ContainsFunc(h.RemovalList(), func(e string) bool { return slices.Contains(m, e) }) {
			continue
		}
		if err := s.DropHold(ctx, h.GroupName); err != nil {
			return err
		}
	}
	return nil
}

// ConfirmHold lets a held removal through on the next pass (an admin's
// decision, audited). group "" confirms every hold.
func (s *Store) ConfirmHold(ctx context.Context, group, admin string, now time.Time) ([]string, error) {
	var confirmed []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("confirmed_at IS NULL")
		if group != "" {
			q = q.Where("group_name = ?", group)
		}
		var hs []SyncHold
		if err := q.Order("group_name").Find(&hs).Error; err != nil {
			return err
		}
		if len(hs) == 0 {
			return ErrNoHold
		}
		for _, h := range hs {
			err := tx.Model(&SyncHold{}).Where("group_name = ?", h.GroupName).
				Updates(map[string]any{"confirmed_by": admin, "confirmed_at": now.UTC()}).Error
			if err != nil {
				return err
			}
			if err := AppendAudit(ctx, tx, Event{At: now, Actor: admin, Action: "sync.hold.confirm", Target: h.GroupName,
				Details: map[string]any{"removals": h.RemovalList()}}); err != nil {
				return err
			}
			confirmed = append(confirmed, h.GroupName)
		}
		return nil
	})
	return confirmed, err
}
