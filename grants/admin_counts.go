package grants

import (
	"context"
	"fmt"
)

// AdminCounts are the numbers the admin overview leads with.
type AdminCounts struct {
	// PendingRequests wait for a decision.
	PendingRequests int64
	// ActiveGrants are in force now.
	ActiveGrants int64
	// OpenOffboardings have started and not yet been confirmed in the
	// tailnet policy (nor closed because the person is ACTIVE again).
	OpenOffboardings int64
}

// CountForAdmins counts pending requests, active grants and open
// offboardings, for the admin overview.
func (s *Store) CountForAdmins(ctx context.Context) (AdminCounts, error) {
	var n AdminCounts
	db := s.db.WithContext(ctx)
	if err := db.Model(&Request{}).Where("status = ?", RequestPending).Count(&n.PendingRequests).Error; err != nil {
		return n, fmt.Errorf("counting pending requests: %w", err)
	}
	if err := db.Model(&Grant{}).Where("status = ?", GrantActive).Count(&n.ActiveGrants).Error; err != nil {
		return n, fmt.Errorf("counting active grants: %w", err)
	}
	if err := db.Model(&Offboarding{}).Where("policy_confirmed_at IS NULL AND ended_at IS NULL").Count(&n.OpenOffboardings).Error; err != nil {
		return n, fmt.Errorf("counting open offboardings: %w", err)
	}
	return n, nil
}
