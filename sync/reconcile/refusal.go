package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"maps"

	"github.com/accessportal/portal/sync/policyfile"
	"github.com/accessportal/portal/sync/tailnet"
)

// validate narrows a plan the control plane refused as a whole (for
// example a policy `test` fails once someone is removed): each group's
// change is validated on its own: the groups refused alone are left as they are, with the control
// plane's message, and a plan of every other change is returned, so that one
// refused group never holds back the rest (an offboarding removal above
// all). A refusal that no single group's change explains, or of a policy
// already refused as it stands, refuses the pass.
func (r *Reconciler) validate(ctx context.Context, p *Plan, whole *tailnet.ValidationError) (*Plan, []string, map[string]string, error) {
	var warnings []string
	// A policy refused as it stands (someone broke it by hand) refuses
	// every change: that is the pass's error, not any group's.
	if _, err := r.o.Policy.ValidatePolicy(ctx, p.Old); err != nil {
		return p, nil, nil, whole
	}
	refused := map[string]string{}
	for _, c := range p.Changes {
		alone, _, err := policyfile.PatchGroups(p.Old, map[string][]string{c.Group: p.target[c.Group]})
		if err != nil {
			return p, nil, nil, err
		}
		_, err = r.o.Policy.ValidatePolicy(ctx, alone)
		var ve *tailnet.ValidationError
		switch {
		case errors.As(err, &ve):
			refused[c.Group] = ve.Message
		case err != nil:
			return p, nil, nil, err
		}
	}
	if len(refused) == 0 {
		return p, nil, nil, whole
	}
	rest := maps.Clone(p.target)
	for g, msg := range refused {
		slog.Warn("the tailnet refused a managed group's change; applying the others", "group", g, "message", msg)
		delete(rest, g)
	}
	text, changes, err := policyfile.PatchGroups(p.Old, rest)
	if err != nil {
		return p, nil, nil, err
	}
	q := *p
	q.New, q.Changes, q.target = text, changes, rest
	if len(changes) == 0 {
		return &q, warnings, refused, nil
	}
	if warnings, err = r.o.Policy.ValidatePolicy(ctx, q.New); err != nil {
		return p, nil, refused, err
	}
	return &q, warnings, refused, nil
}
