package web

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/accessportal/portal/grants"
)

// unknownSchedulesIn checks the PagerDuty schedules of a catalog body
// against PagerDuty (see unknownSchedules). A body that does not parse is
// left to the catalog store, which refuses it with the start-up message.
func (s *Server) unknownSchedulesIn(ctx context.Context, body []byte) string {
	proposed, err := grants.ParseCatalog("catalog", body)
	if err != nil {
		return ""
	}
	return s.unknownSchedules(ctx, s.opts.Catalog(), proposed)
}

// unknownSchedules asks PagerDuty about the onCall schedules that proposed
// names and cur does not, and says which it does not know ("" when it knows
// them all). When PagerDuty cannot be asked the check only warns: the
// schedules are checked again at start-up.
func (s *Server) unknownSchedules(ctx context.Context, cur, proposed *grants.Catalog) string {
	if s.opts.CheckSchedules == nil {
		return ""
	}
	added := newSchedules(cur, proposed)
	if len(added) == 0 {
		return ""
	}
	unknown, err := s.opts.CheckSchedules(ctx, slices.Sorted(maps.Keys(added)))
	if err != nil {
		slog.Warn("catalog: PagerDuty schedules not checked", "schedules", slices.Sorted(maps.Keys(added)), "err", err)
		return ""
	}
	if len(unknown) == 0 {
		return ""
	}
	id := unknown[0]
	return fmt.Sprintf("resources.%s.onCall.pagerdutySchedules: PagerDuty has no schedule %q (its id is the last part of the schedule page's URL, …/schedules/PABC123)", added[id], id)
}

// newSchedules maps each PagerDuty schedule that proposed names and cur does
// not to the first resource (by name) naming it.
func newSchedules(cur, proposed *grants.Catalog) map[string]string {
	known := map[string]bool{}
	for _, r := range cur.Resources {
		if r.OnCall != nil {
			for _, id := range r.OnCall.PagerDutySchedules {
				known[id] = true
			}
		}
	}
	added := map[string]string{}
	for _, name := range proposed.ResourceNames() {
		r := proposed.Resources[name]
		if r.OnCall == nil {
			continue
		}
		for _, id := range r.OnCall.PagerDutySchedules {
			if _, seen := added[id]; !seen && !known[id] {
				added[id] = name
			}
		}
	}
	return added
}
