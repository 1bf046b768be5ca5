package grants

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
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
