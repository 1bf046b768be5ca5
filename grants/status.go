package grants

import "slices"

// Okta user statuses the portal tells apart (Okta's "User status" table,
// developer.okta.com/docs/reference/api/users/#user-status): people in
// ordinary password trouble are still employed.
const (
	StatusStaged          = "STAGED"
	StatusProvisioned     = "PROVISIONED"
	StatusRecovery        = "RECOVERY"
	StatusLockedOut       = "LOCKED_OUT"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
)

// PresentStatuses are the statuses of people still employed: members of
// their groups, whose grants keep running.
var PresentStatuses = []string{StatusActive, StatusRecovery, StatusLockedOut, StatusPasswordExpired}

// DepartedStatuses are the statuses of people who left (deleted from Okta
// included): the offboarding cascade runs for them.
var DepartedStatuses = []string{StatusSuspended, StatusDeprovisioned, StatusDeleted}

// Present reports whether an Okta status is one of a person still employed.
// STAGED and PROVISIONED people have not arrived yet: neither present nor
// among DepartedStatuses.
func Present(status string) bool { return slices.Contains(PresentStatuses, status) }
