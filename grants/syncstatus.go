package grants

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SyncStatus is the outcome of the reconciler, kept in one row (id 1).
type SyncStatus struct {
	ID            int64 `gorm:"primaryKey"`
	LastRunAt     *time.Time
	LastSuccessAt *time.Time
	LastError     string
	PolicyETag    string `gorm:"column:policy_etag"`
	Held          bool
	HeldReason    string
	// DirectoryReadAt is when a poll last completed a read of Okta.
	DirectoryReadAt *time.Time
	// LastCompleteAt is when a reconcile based on a completed directory read
	// last succeeded: from then on the policy reflects Okta and the grants.
	LastCompleteAt *time.Time
	// Warnings (JSON array) and Refusals (JSON object: group → the control
	// plane's message) of the last pass.
	Warnings string
	Refusals string
}

// WarningList decodes the last pass's warnings.
func (st *SyncStatus) WarningList() []string {
	out := []string{}
	if err := json.Unmarshal([]byte(st.Warnings), &out); err != nil {
		return []string{}
	}
	return out
}

// RefusalMap decodes the managed groups whose change the control plane
// refused in the last pass, with its message.
func (st *SyncStatus) RefusalMap() map[string]string {
	out := map[string]string{}
	if err := json.Unmarshal([]byte(st.Refusals), &out); err != nil {
		return map[string]string{}
	}
	return out
}

// TableName is the table of the reconciler's status.
func (SyncStatus) TableName() string { return "sync_status" }

// SyncStatus reads the reconciler's status; the zero status before the
// first pass.
func (s *Store) SyncStatus(ctx context.Context) (SyncStatus, error) {
	var st SyncStatus
	if err := s.db.WithContext(ctx).Where("id = 1").Limit(1).Find(&st).Error; err != nil {
		return st, fmt.Errorf("reading sync status: %w", err)
	}
	return st, nil
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
