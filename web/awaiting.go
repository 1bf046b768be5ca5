package web

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// awaitingCount counts the requests waiting for p's decision, for the
// navigation; a failure is logged and shows no count rather than failing
// the page.
func (s *Server) awaitingCount(c echo.Context, p *grants.Person) int64 {
	ctx := c.Request().Context()
	n, err := s.store.CountAwaitingDecision(ctx, s.opts.Catalog().ApprovableResources(p), p.Email)
	if err != nil {
		slog.WarnContext(ctx, "counting requests waiting for a decision", "err", err)
		return 0
	}
	return n
}
