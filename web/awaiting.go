package web

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// navAwaitingShown is the largest count of requests waiting for a decision
// the navigation shows; past it, it shows "99+".
const navAwaitingShown = 99

// awaitingCount counts the requests waiting for p's decision, for the
// navigation, up to navAwaitingShown, and says whether there are more; a
// failure is logged and shows no count rather than failing the page.
func (s *Server) awaitingCount(c echo.Context, p *grants.Person) (int64, bool) {
	ctx := c.Request().Context()
	n, err := s.store.CountAwaitingDecisionUpTo(ctx, s.opts.Catalog().ApprovableResources(p), p.Email, navAwaitingShown+1)
	if err != nil {
		slog.WarnContext(ctx, "counting requests waiting for a decision", "err", err)
		return 0, false
	}
	return min(n, navAwaitingShown), n > navAwaitingShown
}
