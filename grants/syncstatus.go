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
	// DirectoryReadAt is when a poll last completed a read of Okta.
	DirectoryReadAt *time.Time
	// LastCompleteAt is when a reconcile based on a completed directory read
	// last succeeded: from then on the policy reflects Okta and the grants.
	LastCompleteAt *time.Time
}

// TableName is the table of the reconciler's status.
func (SyncStatus) TableName() string { return "sync_status" }
