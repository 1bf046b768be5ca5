package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

func (s *Server) apiSyncStatus(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.store.SyncStatus(ctx)
	if err != nil {
		return err
	}
	holds, err := s.store.Holds(ctx)
	if err != nil {
		return err
	}
	if holds == nil {
		holds = []grants.SyncHold{}
	}
	return c.JSON(http.StatusOK, syncStatusResponse{
		LastRunAt: utc(st.LastRunAt), LastSuccessAt: utc(st.LastSuccessAt), LastError: st.LastError,
		PolicyETag: st.PolicyETag, Held: st.Held, HeldReason: st.HeldReason, Holds: holds,
		Warnings: st.WarningList(), Refused: st.RefusalMap(),
	})
}
