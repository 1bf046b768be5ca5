package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

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
	// retired are the groups no longer in the catalog that stay managed
	// until their grants' removal is confirmed, sorted.
	retired []string
	// warnings name the members left out because they are not valid logins.
	warnings []string
	// endedBy is when a grant must end to be left out: now, plus the lead
	// of a removing write that must land at the grant's end.
	endedBy time.Time
	// unread are the synced groups whose Okta group no poll has read yet
	// (a fresh database, a new or changed mapping): they keep the members
	// the policy has, less the people Okta said have left — never emptied
	// for want of a read.
	unread map[string]bool
}

// desiredFor is the desired state under catalog c: synced groups get the
// present members of their Okta group in the directory snapshot; resource
// groups get the holders of running grants; the groups c keeps empty hold
// nobody whatever the database says.
func (r *Reconciler) desiredFor(ctx context.Context, s *grants.Store, c *grants.Catalog) (*desiredState, error) {
	names := slices.Sorted(maps.Values(c.Groups))
	// A grant ending within one write's latency is already out: its
	// removing write then lands at its end, not after it.
	endedBy := r.o.Clock().Add(r.lead())
	in, err := s.DesiredInputs(ctx, slices.Compact(names), endedBy)
	if err != nil {
		return nil, err
	}
	d := &desiredState{members: map[string][]string{}, oktaGroup: map[string]string{}, departed: in.Departed, endedBy: endedBy, unread: map[string]bool{}}
	ready := map[string]bool{} // groups whose members are normalized and valid already
	for ts, okta := range c.Groups {
		if !in.Read[okta] {
			// Newly mapped, or re-mapped, to an Okta group whose members
			// no poll has read yet: left as it is in the tailnet, less
			// people who left, until one has (the catalog change pokes
			// the poller), never emptied in the meantime.
			d.unread[ts] = true
			d.oktaGroup[ts] = okta
			d.members[ts] = []string{}
			d.warnings = append(d.warnings, fmt.Sprintf("%s: Okta group %q not read yet; the group is left as it is until it is", ts, okta))
			continue
		}
		d.members[ts] = r.syncedMembers(d, in, ts, okta)
		d.oktaGroup[ts] = okta
		ready[ts] = true
	}
	for _, res := range c.Resources {
		if _, ok := d.members[res.Group]; !ok {
			d.members[res.Group] = []string{}
		}
	}
	// A group the catalog stopped managing (a resource removed, its group
	// renamed) stays managed, as retired, until every grant in it has ended
	// and its removal is confirmed: otherwise nothing would ever take the
	// grantees out.
	for group := range in.Unfinished {
		if _, ok := d.members[group]; !ok {
			d.members[group] = []string{}
			d.retired = append(d.retired, group)
			d.warnings = append(d.warnings, fmt.Sprintf("%s: no longer in the catalog; kept managed, as retired, until its grants have ended and their removal is confirmed", group))
		}
	}
	slices.Sort(d.retired)
	for group, emails := range in.Holders {
		if _, managed := d.members[group]; !managed {
			continue
		}
		for _, e := range emails {
			if !d.departed[e] {
				if ready[group] {
					// The synced members are shared with later passes.
					d.members[group], ready[group] = slices.Clone(d.members[group]), false
				}
				d.members[group] = append(d.members[group], e)
			}
		}
	}
	for _, g := range c.KeepEmpty {
		d.members[g], ready[g] = []string{}, false
	}
	for g, m := range d.members {
		if !ready[g] {
			d.members[g] = d.validLogins(g, policyfile.NormalizeMembers(m))
		}
	}
	slices.Sort(d.warnings)
	return d, nil
}

// validLogins leaves out of a group's members those that are not valid
// Tailscale logins (bad directory data, such as an Okta email that is not an
// email), each with a warning: one bad member never fails the whole pass.
func (d *desiredState) validLogins(group string, members []string) []string {
	return slices.DeleteFunc(members, func(m string) bool {
		if policyfile.ValidLogin(m) {
			return false
		}
		d.warnings = append(d.warnings, fmt.Sprintf("%s: skipped member %q: not a valid Tailscale login", group, m))
		return true
	})
}

// syncedMembers are the valid, normalized members of synced group ts from
// Okta group okta, with the warnings about those left out: computed once per
// directory snapshot version, as most passes come with no change of the
// directory. The answer is shared with later passes: not to be modified.
func (r *Reconciler) syncedMembers(d *desiredState, in *grants.DesiredInputs, ts, okta string) []string {
	key := ts + "\x00" + okta
	r.mu.Lock()
	if r.syncedVersion != in.DirectoryVersion || r.synced == nil {
		r.synced, r.syncedVersion = map[string]syncedGroup{}, in.DirectoryVersion
	}
	sg, ok := r.synced[key]
	r.mu.Unlock()
	if !ok {
		one := &desiredState{}
		sg = syncedGroup{members: one.validLogins(ts, policyfile.NormalizeMembers(in.Members[okta]))}
		sg.warnings = one.warnings
		r.mu.Lock()
		if r.syncedVersion == in.DirectoryVersion {
			r.synced[key] = sg
		}
		r.mu.Unlock()
	}
	d.warnings = append(d.warnings, sg.warnings...)
	return sg.members
}

// syncedGroup is a synced group's members as syncedMembers computed them.
type syncedGroup struct {
	members, warnings []string
}
