package web

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// checkOnCallEdit checks the onCall schedules a catalog edit adds: the
// message and status of a refusal, or "" when it may be saved. A schedule
// PagerDuty does not know is 400; a schedule the author is on call in now,
// added to a resource, is 409 (the change would approve the author's own
// requests at once: another admin must make it).
func (s *Server) checkOnCallEdit(c echo.Context, cur, proposed *grants.Catalog) (string, int) {
	ctx := c.Request().Context()
	if msg := s.unknownSchedules(ctx, cur, proposed); msg != "" {
		return msg, http.StatusBadRequest
	}
	author, _ := person(c)
	if msg := s.authorOnCall(ctx, author, cur, proposed); msg != "" {
		return msg, http.StatusConflict
	}
	return "", 0
}

// authorOnCall says whether author is on call now in a schedule proposed
// adds to a resource's onCall rule. When PagerDuty cannot be asked it
// warns and lets the edit through.
func (s *Server) authorOnCall(ctx context.Context, author *grants.Person, cur, proposed *grants.Catalog) string {
	if s.opts.OnCall == nil || author == nil {
		return ""
	}
	for _, name := range proposed.ResourceNames() {
		added := addedSchedules(cur.Resources[name], proposed.Resources[name])
		if len(added) == 0 {
			continue
		}
		shift, onCall, err := s.opts.OnCall.OnCall(ctx, author.Email, added)
		if err != nil {
			slog.Warn("catalog: whether the author is on call was not checked", "resource", name, "err", err)
			continue
		}
		if onCall {
			return fmt.Sprintf("resources.%s.onCall: you are on call in PagerDuty schedule %s, so this change would approve your own requests for %s at once; another admin must make it", name, shift.Schedule, name)
		}
	}
	return ""
}

// addedSchedules are the onCall schedules of after that before lacks.
func addedSchedules(before, after grants.Resource) []string {
	if after.OnCall == nil {
		return nil
	}
	var had []string
	if before.OnCall != nil {
		had = before.OnCall.PagerDutySchedules
	}
	return slices.DeleteFunc(slices.Clone(after.OnCall.PagerDutySchedules), func(id string) bool { return slices.Contains(had, id) })
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
