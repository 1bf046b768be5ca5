package reconcile

import (
	"context"
	"log/slog"
	"time"

	"github.com/accessportal/portal/sync/policyfile"
	"github.com/accessportal/portal/sync/tailnet"
)

// The reconciler keeps the policy text and ETag it last read or wrote. The
// lease holder is the only writer, so that copy is the tailnet's until a
// write answers 412 (someone else wrote): a change then costs one round
// trip, the write. A hand edit is found by the ETag watch, the periodic
// full pass, or the 412 of the next write.

// current returns the policy to patch: the kept copy, or a fresh read
// (fresh is true then) that is kept.
func (r *Reconciler) current(ctx context.Context) (pol tailnet.Policy, fresh bool, err error) {
	r.mu.Lock()
	kept := r.kept
	if r.stale {
		// A Refresh came since the last read; a pass running then may
		// have kept its older copy after the Refresh forgot it.
		r.stale, kept = false, nil
	}
	r.mu.Unlock()
	if kept != nil {
		return *kept, false, nil
	}
	pol, err = r.o.Policy.ReadPolicy(ctx)
	if err != nil {
		return pol, true, err
	}
	r.keep(pol)
	return pol, true, nil
}

// keep remembers what the tailnet holds; a policy without an ETag cannot be
// written against, so it is not kept.
func (r *Reconciler) keep(pol tailnet.Policy) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pol.ETag == "" {
		r.kept = nil
		return
	}
	r.kept = &pol
}

// forget drops the kept copy: the next pass reads the policy again.
func (r *Reconciler) forget() {
	r.mu.Lock()
	r.kept = nil
	r.mu.Unlock()
}

// keptETag is the ETag of the kept copy, or "".
func (r *Reconciler) keptETag() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kept == nil {
		return ""
	}
	return r.kept.ETag
}

// watch reads the policy every period and, when its ETag is not the one
// the reconciler holds (a push from git, a hand edit), forgets the kept
// copy and wakes a pass: drift is repaired within the period, without a
// full pass.
func (r *Reconciler) watch(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		held := r.keptETag()
		if held == "" {
			continue // nothing kept: the next pass reads anyway
		}
		pol, err := r.o.Policy.ReadPolicy(ctx)
		if err != nil {
			if ctx.Err() == nil {
				slog.Debug("policy watch", "err", err)
			}
			continue
		}
		if pol.ETag != held && r.keptETag() == held {
			slog.Info("the tailnet policy changed outside the portal; reconciling", "etag", pol.ETag)
			r.Refresh()
		}
	}
}

// Refresh makes the next pass read the policy afresh and wakes it: a
// webhook said the policy changed, or an admin asked for a pass.
func (r *Reconciler) Refresh() {
	r.mu.Lock()
	r.stale = true
	r.mu.Unlock()
	r.forget()
	r.Wake()
}

// leadMargin is added to the measured write latency for the pass's own
// work before its write, so that the write lands at a grant's end rather
// than just after it.
const leadMargin = 5 * time.Millisecond

// lead is how long before a grant's end its removing pass starts, so that
// the write lands at the end: the measured write latency (a moving average:
// one round trip) plus a small margin, so a grant is never cut short by more
// than one round trip.
func (r *Reconciler) lead() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.writeLatency == 0 {
		return 0
	}
	return r.writeLatency + leadMargin
}

// measured records how long a write took.
func (r *Reconciler) measured(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.writeLatency == 0 {
		r.writeLatency = d
		return
	}
	r.writeLatency = (3*r.writeLatency + d) / 4
}

// readGroups returns the groups of pol (policyfile.ReadGroups), their
// members normalized (policyfile.NormalizeMembers), parsed once per ETag:
// the kept policy is the same text pass after pass. Callers must not modify
// the answer.
func (r *Reconciler) readGroups(pol tailnet.Policy) (map[string][]string, error) {
	r.mu.Lock()
	if pol.ETag != "" && r.parsedETag == pol.ETag {
		groups := r.parsed
		r.mu.Unlock()
		return groups, nil
	}
	r.mu.Unlock()
	written, err := policyfile.ReadGroups(pol.Text)
	if err != nil {
		return nil, err
	}
	groups := make(map[string][]string, len(written))
	for g, members := range written {
		groups[g] = policyfile.NormalizeMembers(members)
	}
	r.mu.Lock()
	r.parsed, r.parsedETag = groups, pol.ETag
	r.mu.Unlock()
	return groups, nil
}
