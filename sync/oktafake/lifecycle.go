package oktafake

import (
	"fmt"
	"net/http"
	"slices"
)

// User lifecycle, as the Users API documents it
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/
// and .../tag/UserCred/ for the password operations; the state diagram in
// "User status" of https://developer.okta.com/docs/reference/api/users/):
//
//   - activate: only STAGED or DEPROVISIONED users; a user without a
//     password becomes PROVISIONED until they finish the welcome flow, one
//     with a password becomes ACTIVE; an ACTIVE user gets 403 E0000016;
//   - reactivate: only PROVISIONED or RECOVERY users; it restarts the
//     activation flow (the user is PROVISIONED until they finish it);
//   - deactivate: any user that is not DEPROVISIONED; group memberships are
//     kept;
//   - suspend: only ACTIVE users, unsuspend only SUSPENDED ones; any other
//     status is 400 E0000001;
//   - unlock: LOCKED_OUT users become ACTIVE (an ACTIVE user stays so);
//   - expire_password: the user becomes PASSWORD_EXPIRED;
//   - reset_password: the user becomes RECOVERY and cannot sign in until
//     they finish the reset;
//   - delete: only DEPROVISIONED users; DELETE on another user deactivates
//     it, and a second DELETE deletes it.
//
// Other statuses an operation is not allowed in answer 403 E0000038 ("This
// operation is not allowed in the user's current status.", from Okta's
// error code catalog). Two more operations are what the person does, not an
// admin, and exist only in the fake: lock_out (too many failed sign-ins,
// Okta's user.account.lock) and set_password (the person finishes the
// activation, reset or expired-password flow).

// Lifecycle operations: the admin's, named as in the Users API path
// /api/v1/users/{id}/lifecycle/{operation}, then the person's.
const (
	OpActivate       = "activate"
	OpReactivate     = "reactivate"
	OpDeactivate     = "deactivate"
	OpSuspend        = "suspend"
	OpUnsuspend      = "unsuspend"
	OpUnlock         = "unlock"
	OpExpirePassword = "expire_password"
	OpResetPassword  = "reset_password"
	OpLockOut        = "lock_out"
	OpSetPassword    = "set_password"
)

// adminOps are the operations the Users API serves, in the order the admin
// page shows them.
var adminOps = []string{OpActivate, OpReactivate, OpUnlock, OpUnsuspend, OpSuspend, OpResetPassword, OpExpirePassword, OpDeactivate}

// personOps are what the person does (the fake's admin page offers them too).
var personOps = []string{OpLockOut, OpSetPassword}

// Error is a refusal with Okta's error body: the HTTP status, errorCode
// and errorSummary, and the causes.
type Error struct {
	Status  int
	Code    string
	Summary string
	Causes  []string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (%d %s)", e.Summary, e.Status, e.Code)
}

func (e *Error) write(w http.ResponseWriter) {
	writeOktaError(w, e.Status, e.Code, e.Summary, e.Causes...)
}

func notAllowedInStatus() *Error {
	return &Error{Status: http.StatusForbidden, Code: "E0000038", Summary: "This operation is not allowed in the user's current status."}
}

// step is where an operation takes a user and the System Log event it
// publishes ("" for none).
type step struct {
	to, eventType string
}

// lifecycleStep is what op does to a user in status from (with or without
// a password), or why Okta refuses it.
func lifecycleStep(from string, hasPassword bool, op string) (step, *Error) {
	in := func(statuses ...string) bool { return slices.Contains(statuses, from) }
	switch op {
	case OpActivate:
		switch {
		case from == StatusActive:
			return step{}, &Error{Status: http.StatusForbidden, Code: "E0000016", Summary: "Activation failed because the user is already active"}
		case !in(StatusStaged, StatusDeprovisioned):
			return step{}, notAllowedInStatus()
		case hasPassword:
			return step{StatusActive, "user.lifecycle.activate"}, nil
		}
		return step{StatusProvisioned, "user.lifecycle.activate"}, nil
	case OpReactivate:
		if !in(StatusProvisioned, StatusRecovery) {
			return step{}, notAllowedInStatus()
		}
		return step{StatusProvisioned, "user.lifecycle.reactivate"}, nil
	case OpDeactivate:
		if from == StatusDeprovisioned {
			return step{}, notAllowedInStatus()
		}
		return step{StatusDeprovisioned, "user.lifecycle.deactivate"}, nil
	case OpSuspend:
		if from != StatusActive {
			return step{}, &Error{Status: http.StatusBadRequest, Code: "E0000001", Summary: "Api validation failed: suspend", Causes: []string{"Cannot suspend a user that is not active"}}
		}
		return step{StatusSuspended, "user.lifecycle.suspend"}, nil
	case OpUnsuspend:
		if from != StatusSuspended {
			return step{}, &Error{Status: http.StatusBadRequest, Code: "E0000001", Summary: "Api validation failed: unsuspend", Causes: []string{"Cannot unsuspend a user that is not suspended"}}
		}
		return step{StatusActive, "user.lifecycle.unsuspend"}, nil
	case OpUnlock:
		switch from {
		case StatusLockedOut:
			return step{StatusActive, "user.account.unlock_by_admin"}, nil
		case StatusActive:
			return step{StatusActive, ""}, nil
		}
		return step{}, notAllowedInStatus()
	case OpExpirePassword:
		if !in(StatusActive, StatusPasswordExpired) {
			return step{}, notAllowedInStatus()
		}
		return step{StatusPasswordExpired, "user.account.expire_password"}, nil
	case OpResetPassword:
		if !in(StatusActive, StatusPasswordExpired, StatusLockedOut, StatusRecovery, StatusProvisioned) {
			return step{}, notAllowedInStatus()
		}
		return step{StatusRecovery, "user.account.reset_password"}, nil
	case OpLockOut:
		if !in(StatusActive, StatusPasswordExpired) {
			return step{}, &Error{Status: http.StatusConflict, Code: "E0000038", Summary: "Only an ACTIVE or PASSWORD_EXPIRED user can be locked out by failed sign-ins."}
		}
		return step{StatusLockedOut, "user.account.lock"}, nil
	case OpSetPassword:
		if !in(StatusProvisioned, StatusRecovery, StatusPasswordExpired) {
			return step{}, &Error{Status: http.StatusConflict, Code: "E0000038", Summary: "Only a PROVISIONED, RECOVERY or PASSWORD_EXPIRED user has a password flow to finish."}
		}
		return step{StatusActive, "user.account.update_password"}, nil
	}
	return step{}, &Error{Status: http.StatusNotFound, Code: "E0000007", Summary: "Not found: Resource not found: " + op + " (Resource)"}
}

// allowedOps lists the operations of ops a user in status may undergo.
func allowedOps(status string, hasPassword bool, ops []string) []string {
	var out []string
	for _, op := range ops {
		if st, err := lifecycleStep(status, hasPassword, op); err == nil && !(op == OpUnlock && st.eventType == "") {
			out = append(out, op)
		}
	}
	return out
}

// Lifecycle performs a lifecycle operation on a user (id or login) with
// Okta's preconditions: an admin's (OpActivate ... OpResetPassword, as
// through the Users API) or the person's (OpLockOut, OpSetPassword). Each
// change stamps statusChanged and lastUpdated and is logged to the System
// Log (and hooks) under Okta's event type. A refusal is an *Error.
func (s *Server) Lifecycle(idOrLogin, op string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(idOrLogin)
	if u == nil {
		return fmt.Errorf("%s of %s: user %w", op, idOrLogin, ErrNotFound)
	}
	if err := s.lifecycleLocked(u, op); err != nil {
		return err
	}
	return nil
}

func (s *Server) lifecycleLocked(u *user, op string) *Error {
	st, err := lifecycleStep(u.status, u.hasPassword(), op)
	if err != nil {
		return err
	}
	now := s.now()
	if st.to != u.status {
		u.status = st.to
		u.statusChanged = now
	}
	u.lastUpdated = now
	if st.to == StatusActive && u.activated.IsZero() {
		u.activated = now
	}
	if op == OpSetPassword {
		u.passwordChanged = now
	}
	if st.eventType != "" {
		s.emitLocked(st.eventType, s.userTargetLocked(u))
	}
	return nil
}

func (u *user) hasPassword() bool { return !u.passwordChanged.IsZero() }
