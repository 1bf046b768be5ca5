package grants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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

// PassRecord is the outcome of one reconcile pass.
type PassRecord struct {
	Start, End time.Time
	ETag       string
	// Complete is true when the pass was based on a completed directory read.
	Complete bool
	Err      error
	// Warnings are what the pass skipped or the control plane warned about.
	Warnings []string
	// Refusals are the managed groups whose change the control plane
	// refused, with its message; every other change was applied.
	Refusals map[string]string
	// AdminGroups are the catalog's admin groups, told of a new refusal.
	AdminGroups []string
}

// RecordPass writes the outcome of a reconcile pass to the sync status:
// when it ran, its error or success with the policy's ETag (and, when the
// pass was based on a completed directory read, that the policy is
// complete), its warnings and refusals, and the open holds. A refusal not
// recorded before is audited (sync.refused).
func (s *Store) RecordPass(ctx context.Context, p PassRecord) error {
	st := map[string]any{"last_run_at": p.Start.UTC()}
	switch {
	case p.Err != nil:
		st["last_error"] = p.Err.Error()
	default:
		st["last_success_at"] = p.End.UTC()
		st["last_error"] = refusalText(p.Refusals)
		st["policy_etag"] = p.ETag
		if p.Complete {
			st["last_complete_at"] = p.End.UTC()
		}
		w, err := json.Marshal(nonNil(p.Warnings))
		if err != nil {
			return fmt.Errorf("encoding sync warnings: %w", err)
		}
		r, err := json.Marshal(p.Refusals)
		if err != nil {
			return fmt.Errorf("encoding sync refusals: %w", err)
		}
		st["warnings"], st["refusals"] = string(w), string(r)
		if p.Refusals == nil {
			st["refusals"] = "{}"
		}
	}
	var open []SyncHold
	if err := s.db.WithContext(ctx).Where("confirmed_at IS NULL").Order("group_name").Find(&open).Error; err != nil {
		return fmt.Errorf("reading holds: %w", err)
	}
	reasons := make([]string, 0, len(open))
	for _, h := range open {
		reasons = append(reasons, h.Reason())
	}
	st["held"] = len(open) > 0
	st["held_reason"] = strings.Join(reasons, "; ")
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&SyncStatus{ID: 1}).Error; err != nil {
			return fmt.Errorf("recording sync status: %w", err)
		}
		var before SyncStatus
		if err := tx.Where("id = 1").Take(&before).Error; err != nil {
			return fmt.Errorf("recording sync status: %w", err)
		}
		if err := auditNewRefusals(ctx, tx, before.RefusalMap(), p); err != nil {
			return err
		}
		if err := tx.Model(&SyncStatus{}).Where("id = 1").Updates(st).Error; err != nil {
			return fmt.Errorf("recording sync status: %w", err)
		}
		return nil
	})
}

// auditNewRefusals audits each refusal the previous pass did not have.
func auditNewRefusals(ctx context.Context, tx *gorm.DB, before map[string]string, p PassRecord) error {
	for _, g := range slices.Sorted(maps.Keys(p.Refusals)) {
		if before[g] == p.Refusals[g] {
			continue
		}
		err := AppendAudit(ctx, tx, Event{At: p.End, Actor: "system", Action: "sync.refused", Target: g,
			Details: map[string]any{"message": p.Refusals[g], "reason": "the tailnet refused this group's change; every other change was applied"}})
		if err != nil {
			return err
		}
		admins, err := presentMembers(ctx, tx, p.AdminGroups)
		if err != nil {
			return err
		}
		if err := enqueue(tx, NotifySyncRefused, admins, nil, map[string]any{"group": g, "message": p.Refusals[g]}, p.End, p.End); err != nil {
			return err
		}
	}
	return nil
}

// refusalText is the refusals as one line, for lastError.
func refusalText(refusals map[string]string) string {
	var parts []string
	for _, g := range slices.Sorted(maps.Keys(refusals)) {
		parts = append(parts, g+": tailnet policy rejected: "+refusals[g])
	}
	return strings.Join(parts, "; ")
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
