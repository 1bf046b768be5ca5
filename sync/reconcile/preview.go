package reconcile

import (
	"context"
	"errors"

	"github.com/accessportal/portal/grants"
)

// Plan reads the database (s, or the reconciler's own store when nil) and
// the policy and computes what a pass would write; it changes nothing.
func (r *Reconciler) Plan(ctx context.Context, s *grants.Store) (*Plan, error) {
	if s == nil {
		s = r.o.Store
	}
	return r.planCatalog(ctx, s, r.o.Catalog())
}

// PlanFor computes what a pass would write if c were the catalog in use,
// reading the database and the tailnet policy as Plan does; it changes
// nothing. It is how the dashboard previews a catalog change: the diff is
// the one `portal sync --dry-run` would print after the change (from the
// directory snapshot, without a fresh Okta read).
func (r *Reconciler) PlanFor(ctx context.Context, c *grants.Catalog) (*Plan, error) {
	if c == nil {
		return nil, errors.New("planning: no catalog")
	}
	return r.planCatalog(ctx, r.o.Store, c)
}

// planCatalog reads s and the policy and computes what a pass with catalog c
// would write.
func (r *Reconciler) planCatalog(ctx context.Context, s *grants.Store, c *grants.Catalog) (*Plan, error) {
	d, err := r.desiredFor(ctx, s, c)
	if err != nil {
		return nil, err
	}
	pol, err := r.o.Policy.ReadPolicy(ctx)
	if err != nil {
		return nil, err
	}
	return r.plan(ctx, s, d, pol, false)
}
