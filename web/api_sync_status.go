package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	psync "github.com/accessportal/portal/sync"
)

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
