package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// requireAdmin refuses callers who are not portal admins.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, admin := person(c); !admin {
			return httpError(http.StatusForbidden, "only portal admins may do this")
		}
		return next(c)
	}
}

// syncStatusResponse is the answer of GET /api/v1/sync/status.
type syncStatusResponse struct {
	LastRunAt     *time.Time        `json:"lastRunAt"`
	LastSuccessAt *time.Time        `json:"lastSuccessAt"`
	LastError     string            `json:"lastError"`
	PolicyETag    string            `json:"policyETag"`
	Held          bool              `json:"held"`
	HeldReason    string            `json:"heldReason"`
	Holds         []grants.SyncHold `json:"holds"`
	// Warnings are what the last pass skipped or the tailnet warned about.
	Warnings []string `json:"warnings"`
	// Refused are the managed groups whose change the tailnet refused, with
	// its message verbatim (an extension of the contract).
	Refused map[string]string `json:"refused"`
}

// confirmHoldRequest is the body of POST /api/v1/sync/confirm.
type confirmHoldRequest struct {
	Group string `json:"group"` // "" = every held group
}

func (s *Server) wake() {
	if s.opts.Wake != nil {
		s.opts.Wake()
	}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
