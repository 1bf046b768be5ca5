package pagerdutyfake

import (
	"fmt"
	"slices"
	"time"
)

// renderer turns the account's objects into the API's JSON shapes:
// references ({id, type "…_reference", summary, self, html_url},
// "References") unless the request includes the full objects ("Includes":
// "including a type of resource will make all resources of that type
// contain their full set of fields").
type renderer struct {
	s        *Server
	base     string
	loc      *time.Location
	includes []string
}

func (rr renderer) htmlURL(path string) string {
	return "https://" + rr.s.subdomain + ".pagerduty.com/" + path
}

func (rr renderer) ref(kind, collection, id, summary string) map[string]any {
	return map[string]any{
		"id": id, "type": kind + "_reference", "summary": summary,
		"self": rr.base + "/" + collection + "/" + id, "html_url": rr.htmlURL(collection + "/" + id),
	}
}

// time renders t in the request's time zone; a zero time is null ("If
// `null`, the user does not go off-call").
func (rr renderer) time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(rr.loc).Format(time.RFC3339)
}

// oncall renders an on-call entry (the "Oncall" schema).
func (rr renderer) oncall(sh *shift) map[string]any {
	sc := rr.s.schedules[sh.scheduleID]
	u := rr.s.users[sh.userID]
	out := map[string]any{
		"user":              rr.ref("user", "users", u.ID, u.Name),
		"schedule":          rr.ref("schedule", "schedules", sc.ID, sc.Name),
		"escalation_policy": rr.ref("escalation_policy", "escalation_policies", sc.EscalationPolicyID, sc.EscalationPolicyName),
		"escalation_level":  sc.EscalationLevel,
		"start":             rr.time(sh.start),
		"end":               rr.time(sh.end),
	}
	if slices.Contains(rr.includes, "users") {
		out["user"] = rr.user(u)
	}
	if slices.Contains(rr.includes, "schedules") {
		out["schedule"] = rr.schedule(sc, nil)
	}
	if slices.Contains(rr.includes, "escalation_policies") {
		out["escalation_policy"] = rr.escalationPolicy(sc.EscalationPolicyID)
	}
	return out
}

// user renders a full user (the "User" schema).
func (rr renderer) user(u *User) map[string]any {
	out := rr.ref("user", "users", u.ID, u.Name)
	out["type"] = "user"
	out["name"] = u.Name
	out["email"] = u.Email
	out["time_zone"] = u.TimeZone
	out["color"] = "green"
	out["role"] = u.Role
	out["avatar_url"] = "https://secure.gravatar.com/avatar/" + u.ID + ".png?d=mm&r=PG"
	out["description"] = nil
	out["invitation_sent"] = false
	out["job_title"] = nil
	out["teams"] = []any{}
	out["contact_methods"] = []any{map[string]any{
		"id": u.ID + "E", "type": "email_contact_method_reference", "summary": "Default",
		"self": rr.base + "/users/" + u.ID + "/contact_methods/" + u.ID + "E", "html_url": nil,
	}}
	out["notification_rules"] = []any{}
	return out
}

// renderRange asks for rendered schedule entries over [since, until].
type renderRange struct {
	since, until time.Time
	overflow     bool
}

// schedule renders a full schedule (the "Schedule" schema) with its one
// layer, the overrides sub-schedule and the final schedule.
func (rr renderer) schedule(sc *Schedule, rg *renderRange) map[string]any {
	out := rr.ref("schedule", "schedules", sc.ID, sc.Name)
	out["type"] = "schedule"
	out["name"] = sc.Name
	out["time_zone"] = sc.TimeZone
	out["description"] = sc.Description
	out["escalation_policies"] = []any{rr.ref("escalation_policy", "escalation_policies", sc.EscalationPolicyID, sc.EscalationPolicyName)}
	out["teams"] = []any{}
	var layer, overrides []*shift
	users := []any{}
	seen := map[string]bool{}
	for _, sh := range rr.s.shifts {
		if sh.scheduleID != sc.ID {
			continue
		}
		layer = append(layer, sh)
		if !seen[sh.userID] {
			seen[sh.userID] = true
			u := rr.s.users[sh.userID]
			users = append(users, rr.ref("user", "users", u.ID, u.Name))
		}
	}
	for _, o := range rr.s.overrides {
		if o.scheduleID == sc.ID {
			overrides = append(overrides, o)
		}
	}
	out["users"] = users
	out["schedule_layers"] = []any{map[string]any{
		"id": sc.ID + "L", "name": "Layer 1", "rendered_schedule_entries": rr.entries(layer, rg),
	}}
	out["overrides_subschedule"] = map[string]any{"name": "Overrides", "rendered_schedule_entries": rr.entries(overrides, rg)}
	out["final_schedule"] = map[string]any{"name": "Final Schedule", "rendered_schedule_entries": rr.entries(rr.s.computedLocked(sc.ID), rg)}
	return out
}

// entries renders the shifts overlapping the range, cut at its bounds
// unless overflow; without a range there are none.
func (rr renderer) entries(shifts []*shift, rg *renderRange) []any {
	out := []any{}
	if rg == nil {
		return out
	}
	for _, sh := range shifts {
		if !sh.covers(rg.since, rg.until) {
			continue
		}
		start, end := sh.start, sh.end
		if !rg.overflow {
			start = later(start, rg.since)
			if end.IsZero() || end.After(rg.until) {
				end = rg.until
			}
		}
		u := rr.s.users[sh.userID]
		out = append(out, map[string]any{
			"start": rr.time(start), "end": rr.time(end), "user": rr.ref("user", "users", u.ID, u.Name),
		})
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// escalationPolicy renders a full escalation policy: one rule per level,
// each targeting the schedules reached at that level.
func (rr renderer) escalationPolicy(id string) map[string]any {
	var name string
	var top uint
	for _, sc := range rr.s.schedules {
		if sc.EscalationPolicyID == id {
			name, top = sc.EscalationPolicyName, max(top, sc.EscalationLevel)
		}
	}
	rules := []any{}
	for level := uint(1); level <= top; level++ {
		targets := []any{}
		for _, sc := range rr.s.sortedSchedulesLocked() {
			if sc.EscalationPolicyID == id && sc.EscalationLevel == level {
				targets = append(targets, rr.ref("schedule", "schedules", sc.ID, sc.Name))
			}
		}
		rules = append(rules, map[string]any{"id": fmt.Sprintf("%sR%d", id, level), "escalation_delay_in_minutes": 30, "targets": targets})
	}
	out := rr.ref("escalation_policy", "escalation_policies", id, name)
	out["type"] = "escalation_policy"
	out["name"] = name
	out["description"] = ""
	out["num_loops"] = 0
	out["on_call_handoff_notifications"] = "if_has_services"
	out["escalation_rules"] = rules
	out["services"] = []any{}
	out["teams"] = []any{}
	return out
}
