package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/accessportal/portal/grants"
)

// PlanFor computes what a pass would write if c were the catalog in use,
// reading the reconciler's database and the tailnet policy as Plan does; it
// changes nothing. It is how the dashboard previews a catalog change: the
// diff is the one `portal sync --dry-run` would print after the change
// (from the directory snapshot, without a fresh Okta read).
func (r *Reconciler) PlanFor(ctx context.Context, c *grants.Catalog) (*Plan, error) {
	if c == nil {
		return nil, errors.New("planning: no catalog")
	}
	return r.planCatalog(ctx, r.o.DB.DB, c)
}

// planCatalog reads db and the policy and computes what a pass with catalog
// c would write.
func (r *Reconciler) planCatalog(ctx context.Context, db *gorm.DB, c *grants.Catalog) (*Plan, error) {
	d, err := desiredFor(ctx, db, c)
	if err != nil {
		return nil, err
	}
	pol, err := r.o.Policy.ReadPolicy(ctx)
	if err != nil {
		return nil, err
	}
	return r.plan(ctx, db, d, pol, false)
}

// desiredFor is the desired state under catalog c: synced and resource
// groups from the database (computeDesired), and the groups c keeps empty,
// which hold nobody whatever the database says.
func desiredFor(ctx context.Context, db *gorm.DB, c *grants.Catalog) (*desiredState, error) {
	d, err := computeDesired(ctx, db, c)
	if err != nil {
		return nil, err
	}
	for _, g := range c.KeepEmpty {
		d.members[g] = []string{}
	}
	return d, nil
}

// AppliedGroup is what the reconciler last confirmed that the tailnet policy
// holds for one managed group.
type AppliedGroup struct {
	// Members are the group's members in the confirmed policy, sorted.
	Members []string
	// ConfirmedAt is when the reconciler last confirmed them.
	ConfirmedAt time.Time
}

// LastApplied returns what the reconciler last confirmed for a managed
// group; ok is false when it has confirmed nothing for it yet (a group the
// catalog just started managing, or one it no longer manages).
func LastApplied(ctx context.Context, db *gorm.DB, group string) (applied AppliedGroup, ok bool, err error) {
	var row managedGroup
	err = db.WithContext(ctx).Where("name = ?", group).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return applied, false, nil
	}
	if err != nil {
		return applied, false, fmt.Errorf("reading managed group %s: %w", group, err)
	}
	if err := json.Unmarshal([]byte(row.Members), &applied.Members); err != nil {
		return applied, false, fmt.Errorf("decoding managed group %s: %w", group, err)
	}
	applied.ConfirmedAt = row.UpdatedAt
	return applied, true, nil
}

// AppliedGroups returns what the reconciler last confirmed for every group
// it manages, by group.
func AppliedGroups(ctx context.Context, db *gorm.DB) (map[string]AppliedGroup, error) {
	var rows []managedGroup
	if err := db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("reading managed groups: %w", err)
	}
	out := make(map[string]AppliedGroup, len(rows))
	for _, row := range rows {
		var a AppliedGroup
		if err := json.Unmarshal([]byte(row.Members), &a.Members); err != nil {
			return nil, fmt.Errorf("decoding managed group %s: %w", row.Name, err)
		}
		a.ConfirmedAt = row.UpdatedAt
		out[row.Name] = a
	}
	return out, nil
}
