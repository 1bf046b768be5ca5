package reconcile

import (
	"context"
	"maps"
	"slices"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/policyfile"
)

// desiredState is what every managed group should hold.
type desiredState struct {
	// members by Tailscale group, normalized.
	members map[string][]string
	// oktaGroup names the Okta group a synced Tailscale group follows.
	oktaGroup map[string]string
	// departed holds the emails Okta itself says have left: their removal
	// is never braked, and they hold no grant's membership either.
	departed map[string]bool
}

// desiredFor is the desired state under catalog c: synced groups get the
// ACTIVE members of their Okta group in the directory snapshot; resource
// groups get the holders of running grants; the groups c keeps empty hold
// nobody whatever the database says.
func (r *Reconciler) desiredFor(ctx context.Context, s *grants.Store, c *grants.Catalog) (*desiredState, error) {
	names := slices.Sorted(maps.Values(c.Groups))
	in, err := s.DesiredInputs(ctx, slices.Compact(names), r.o.Clock())
	if err != nil {
		return nil, err
	}
	d := &desiredState{members: map[string][]string{}, oktaGroup: map[string]string{}, departed: in.Departed}
	for ts, okta := range c.Groups {
		d.members[ts] = slices.Clone(in.Members[okta])
		d.oktaGroup[ts] = okta
	}
	for _, res := range c.Resources {
		if _, ok := d.members[res.Group]; !ok {
			d.members[res.Group] = []string{}
		}
	}
	for group, emails := range in.Holders {
		if _, managed := d.members[group]; !managed {
			continue
		}
		for _, e := range emails {
			if !d.departed[e] {
				d.members[group] = append(d.members[group], e)
			}
		}
	}
	for _, g := range c.KeepEmpty {
		d.members[g] = []string{}
	}
	for g, m := range d.members {
		d.members[g] = policyfile.NormalizeMembers(m)
	}
	return d, nil
}
