package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"
)

// ConfigLog is the tailnet's configuration audit log
// (GET /api/v2/tailnet/{tailnet}/logging/configuration).
type ConfigLog interface {
	// Entries yields the entries of [since, until). A credential without
	// the logs:configuration:read scope yields a *MissingScopeError.
	Entries(ctx context.Context, since, until time.Time) iter.Seq2[ConfigEntry, error]
}

// ConfigEntry is one configuration log entry.
type ConfigEntry struct {
	// At is the entry's eventTime.
	At time.Time
	// PolicyChange is an entry that records a change of the policy file.
	PolicyChange bool
	// NewETag is the policy file's ETag after the change, when the client
	// can tell it; "" otherwise.
	NewETag string
	// Raw is the entry as Tailscale returned it.
	Raw json.RawMessage
}

// LogsScope is the OAuth scope the configuration log needs.
const LogsScope = "logs:configuration:read"

// MissingScopeError means the credential may not read the configuration
// log: the packet records it instead of failing.
type MissingScopeError struct {
	Scope string
	Err   error
}

func (e *MissingScopeError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("the Tailscale credential lacks the %s scope: %v", e.Scope, e.Err)
	}
	return fmt.Sprintf("the Tailscale credential lacks the %s scope", e.Scope)
}

func (e *MissingScopeError) Unwrap() error { return e.Err }

// configLogError is the error entry of tailscale-configuration-log.json.
type configLogError struct {
	Kind    string `json:"kind"` // "missing-scope", "not-configured", "unavailable"
	Scope   string `json:"scope,omitempty"`
	Message string `json:"message"`
}

func newConfigLogError(err error) *configLogError {
	var ms *MissingScopeError
	if errors.As(err, &ms) {
		return &configLogError{Kind: "missing-scope", Scope: ms.Scope, Message: ms.Error()}
	}
	return &configLogError{Kind: "unavailable", Message: err.Error()}
}
