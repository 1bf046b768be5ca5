package grants

import "time"

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
