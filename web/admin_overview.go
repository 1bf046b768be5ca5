package web

import (
	"time"

	"github.com/accessportal/portal/grants"
)

// adminOverview is what the admin overview leads with: one tile per thing
// an admin may have to act on.
type adminOverview struct {
	grants.AdminCounts
	// HeldGroups are synced groups whose mass removal waits for an admin.
	HeldGroups int
	// LastSync is when the reconciler last ran (nil: never), SyncFailed
	// whether that run failed.
	LastSync   *time.Time
	SyncFailed bool
	// NotificationsFailed gave up; NotificationsWaiting are queued.
	NotificationsFailed, NotificationsWaiting int64
}

// newAdminOverview sums up what the dashboard has read.
func newAdminOverview(counts grants.AdminCounts, status grants.SyncStatus, holds []grants.SyncHold, n grants.NotificationStatus) adminOverview {
	o := adminOverview{
		AdminCounts: counts, LastSync: status.LastRunAt, SyncFailed: status.LastError != "",
		NotificationsFailed: n.Failed, NotificationsWaiting: n.Pending,
	}
	for _, h := range holds {
		if h.ConfirmedAt == nil {
			o.HeldGroups++
		}
	}
	return o
}
