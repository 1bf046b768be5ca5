package grants

import (
	"context"
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
