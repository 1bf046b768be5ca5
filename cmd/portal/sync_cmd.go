package main

import (
	"context"
	"fmt"
	"time"

	"github.com/accessportal/portal/grants/database"
	psync "github.com/accessportal/portal/sync"
)

func runSync(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "sync", "sync [--dry-run]\n\nReads Okta and the tailnet policy; with --dry-run prints the unified diff a reconcile\nwould write and changes nothing, without it reconciles once and exits.")
	dryRun := fs.Bool("dry-run", false, "print the diff only; change nothing")
	a, err := openApp(ctx, env, fs, args)
	if err != nil {
		return err
	}
	defer a.db.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if *dryRun {
		// Read Okta without storing: poll into the snapshot only when not
		// a dry run. A dry run uses a throwaway full read.
		plan, err := a.dryRunPlan(ctx)
		if err != nil {
			return err
		}
		if len(plan.Changes) == 0 {
			fmt.Fprintln(env.stderr, "the tailnet policy is up to date; nothing to write")
			return nil
		}
		fmt.Fprint(env.stdout, plan.Diff())
		for _, g := range plan.Held {
			fmt.Fprintf(env.stderr, "held by the mass-removal brake: %s\n", g)
		}
		return nil
	}
	res, err := a.directory.Poll(ctx, a.db, a.catalog.Current().OktaGroups(), true)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "okta: %d call(s), changed=%v\n", res.Calls, res.Changed)
	pass, err := a.reconciler.Pass(ctx)
	if err != nil {
		return err
	}
	if !pass.Wrote {
		fmt.Fprintln(env.stderr, "the tailnet policy is up to date; nothing written")
	}
	for _, c := range pass.Changes {
		fmt.Fprintf(env.stderr, "%s: +%d -%d\n", c.Group, len(c.Added), len(c.Removed))
	}
	for _, g := range pass.Held {
		fmt.Fprintf(env.stderr, "held by the mass-removal brake (confirm in the dashboard): %s\n", g)
	}
	return nil
}

// dryRunPlan reads Okta into a transaction that is rolled back, so the plan
// sees the directory as it is now while the database stays untouched.
func (a *app) dryRunPlan(ctx context.Context) (*psync.Plan, error) {
	var plan *psync.Plan
	err := a.db.InRolledBackTx(ctx, func(tx *database.DB) error {
		if _, err := a.directory.Poll(ctx, tx, a.catalog.Current().OktaGroups(), true); err != nil {
			return err
		}
		p, err := a.reconciler.Plan(ctx, tx.DB)
		plan = p
		return err
	})
	return plan, err
}
