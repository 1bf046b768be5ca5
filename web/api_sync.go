package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
	psync "github.com/accessportal/portal/sync"
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
	LastRunAt     *time.Time       `json:"lastRunAt"`
	LastSuccessAt *time.Time       `json:"lastSuccessAt"`
	LastError     string           `json:"lastError"`
	PolicyETag    string           `json:"policyETag"`
	Held          bool             `json:"held"`
	HeldReason    string           `json:"heldReason"`
	Holds         []psync.SyncHold `json:"holds"`
}

func (s *Server) apiSyncStatus(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.store.SyncStatus(ctx)
	if err != nil {
		return err
	}
	holds, err := psync.Holds(ctx, s.store.DB().DB)
	if err != nil {
		return err
	}
	if holds == nil {
		holds = []psync.SyncHold{}
	}
	return c.JSON(http.StatusOK, syncStatusResponse{
		LastRunAt: utc(st.LastRunAt), LastSuccessAt: utc(st.LastSuccessAt), LastError: st.LastError,
		PolicyETag: st.PolicyETag, Held: st.Held, HeldReason: st.HeldReason, Holds: holds,
	})
}

// apiSyncNow wakes the reconciler: 202, the pass runs right away.
func (s *Server) apiSyncNow(c echo.Context) error {
	p, _ := person(c)
	if err := s.store.AppendAudit(c.Request().Context(), grants.Event{At: s.now(), Actor: p.Email, Action: "sync.request", Target: "tailnet policy"}); err != nil {
		return err
	}
	s.wake()
	return c.JSON(http.StatusAccepted, map[string]string{"status": "reconcile started"})
}

// confirmHoldRequest is the body of POST /api/v1/sync/confirm.
type confirmHoldRequest struct {
	Group string `json:"group"` // "" = every held group
}

// apiSyncConfirm lets a held mass removal through (an extension of the
// contract's sync routes).
func (s *Server) apiSyncConfirm(c echo.Context) error {
	var req confirmHoldRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	p, _ := person(c)
	groups, err := psync.ConfirmHold(c.Request().Context(), s.store.DB().DB, req.Group, p.Email, s.now())
	if errors.Is(err, psync.ErrNoHold) {
		return httpError(http.StatusNotFound, err.Error())
	}
	if err != nil {
		return err
	}
	s.wake()
	return c.JSON(http.StatusOK, map[string]any{"confirmed": groups})
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
