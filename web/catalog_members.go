package web

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// catalogMember is one person in a managed group, and why.
type catalogMember struct {
	Email, Name string
	// Source says why they are in the group.
	Source string
	// Since is when the tailnet policy got them (from the audit log), "" when unknown.
	Since string
	// Until is when they leave, in words.
	Until string
	// State is "in the tailnet", "joining" or "leaving"; Badge its CSS class.
	State, Badge string
}

// catalogGroupPage is the data of a managed group's membership page.
type catalogGroupPage struct {
	catalogHeader
	Group     string
	Okta      string
	OktaLink  string // the group's page in the Okta admin console
	KeptEmpty bool
	Members   []catalogMember
	Applied   grants.AppliedGroup
	Confirmed bool
}

// ConfirmedAt says since when the policy has held the group as it is.
func (p catalogGroupPage) ConfirmedAt() string { return catalogTime(p.Applied.ConfirmedAt) }

// catalogMembership merges who should be in a group with who the policy
// holds: both is "in the tailnet", only wanted is "joining", only in the
// policy is "leaving" (the next reconcile removes them).
func catalogMembership(want []catalogMember, applied []string, since map[string]time.Time) []catalogMember {
	inPolicy := map[string]bool{}
	for _, m := range applied {
		inPolicy[m] = true
	}
	var out []catalogMember
	wanted := map[string]bool{}
	for _, m := range want {
		wanted[m.Email] = true
		m.State, m.Badge = "joining", "warn"
		if inPolicy[m.Email] {
			m.State, m.Badge = "in the tailnet", "ok"
			if t, ok := since[m.Email]; ok {
				m.Since = catalogTime(t)
			}
		}
		out = append(out, m)
	}
	for _, email := range applied {
		if !wanted[email] {
			out = append(out, catalogMember{Email: email, Source: "no longer wanted", Until: "the next reconcile", State: "leaving", Badge: "bad"})
		}
	}
	return out
}

// catalogAddedSince reads from the audit log (the reconciler's sync.apply
// events, newest first) when each current member was last added to group.
func (s *Server) catalogAddedSince(ctx context.Context, group string) (map[string]time.Time, error) {
	events, err := s.store.GroupSyncHistory(ctx, group, 2000)
	if err != nil {
		return nil, err
	}
	since := map[string]time.Time{}
	seen := map[string]bool{}
	for _, ev := range events {
		// Details name each group's change, and the policy's new etag.
		var details map[string]json.RawMessage
		var change struct{ Added, Removed []string }
		if json.Unmarshal([]byte(ev.Details), &details) != nil || json.Unmarshal(details[group], &change) != nil {
			continue
		}
		for _, m := range change.Added {
			if !seen[m] {
				since[m] = ev.At
			}
			seen[m] = true
		}
		for _, m := range change.Removed {
			seen[m] = true
		}
	}
	return since, nil
}

// catalogGrantRow is one grant of a resource's membership page.
type catalogGrantRow struct {
	grants.Grant
	Source string
}

// Since renders when the grant started.
func (g catalogGrantRow) Since() string { return catalogTime(g.StartsAt) }

// Until renders when the grant ends.
func (g catalogGrantRow) Until() string { return catalogTime(g.ExpiresAt) }

// ExpiresISO is the end as RFC 3339, for the live countdown.
func (g catalogGrantRow) ExpiresISO() string { return g.ExpiresAt.UTC().Format(time.RFC3339) }

// Tailnet says where the grant stands in the tailnet policy.
func (g catalogGrantRow) Tailnet() string {
	switch {
	case g.Status == grants.GrantActive && g.AppliedAt != nil:
		return "in the tailnet since " + catalogTime(*g.AppliedAt)
	case g.Status == grants.GrantActive:
		return "being applied"
	case g.RemovedAt != nil:
		return "removed " + catalogTime(*g.RemovedAt)
	case g.AppliedAt != nil:
		return "being removed"
	}
	return "never applied"
}

// catalogGrantSource says why a grant exists.
func catalogGrantSource(g grants.Grant) string {
	switch {
	case g.RequestID == nil:
		s := "admin grant by " + g.GrantedBy
		if g.Reason != "" {
			s += ": " + g.Reason
		}
		return s
	case g.GrantedBy == "system":
		return fmt.Sprintf("request #%d, auto-approved", *g.RequestID)
	}
	return fmt.Sprintf("request #%d, approved by %s", *g.RequestID, g.GrantedBy)
}

// catalogGrantForm is what the direct grant form typed.
type catalogGrantForm struct {
	User, Duration, Reason string
}

// catalogResourcePage is the data of a resource's page: its rules, who
// holds it, the direct grant form and retire/restore.
type catalogResourcePage struct {
	catalogHeader
	Resource grants.Resource
	Rules    []string
	Version  string
	Active   []catalogGrantRow
	Ended    []catalogGrantRow
	Applied  grants.AppliedGroup
	// Confirmed says whether the reconciler confirmed the group's members.
	Confirmed  bool
	Form       catalogGrantForm
	GrantError string
	Self       string
	// Locks is how the policy uses the resource's group and, with
	// devicePosture, its attribute.
	Locks *policyPreview
}

// DefaultDuration renders the resource's default duration.
func (p catalogResourcePage) DefaultDuration() string {
	return grants.FormatDuration(p.Resource.DefaultDuration)
}

func (s *Server) renderCatalogResource(c echo.Context, code int, form catalogGrantForm, grantError string) error {
	if _, err := s.catalogStore(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	cat, etag, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	name := c.Param("name")
	r, ok := cat.Resources[name]
	if !ok {
		return errCatalogNotFound("Resource " + name)
	}
	page := catalogResourcePage{Resource: r, Rules: catalogRules(r), Version: cat.Version(editResource, name), Form: form, GrantError: grantError}
	if page.catalogHeader, err = s.catalogHeaderFor(c, etag); err != nil {
		return err
	}
	page.Title = name
	if p, err := s.catalogAdmin(c); err == nil {
		page.Self = p.Email
	}
	if page.Applied, page.Confirmed, err = s.store.LastApplied(ctx, r.Group); err != nil {
		return err
	}
	active, ended := true, false
	list, err := s.store.ListGrants(ctx, grants.GrantQuery{Resource: name, Active: &active, Limit: 5000})
	if err != nil {
		return err
	}
	for _, g := range list {
		page.Active = append(page.Active, catalogGrantRow{Grant: g, Source: catalogGrantSource(g)})
	}
	if list, err = s.store.ListGrants(ctx, grants.GrantQuery{Resource: name, Active: &ended, Limit: 20}); err != nil {
		return err
	}
	for _, g := range list {
		page.Ended = append(page.Ended, catalogGrantRow{Grant: g, Source: catalogGrantSource(g)})
	}
	page.Locks = s.resourceLocks(ctx, r)
	return s.render(c, code, "catalog_resource_members.html", page)
}
