package sync

import (
	"context"
	"fmt"

	"github.com/accessportal/portal/grants"
	"gorm.io/gorm"
)

// desiredState is what every managed group should hold.
type desiredState struct {
	// members by Tailscale group, normalized.
	members map[string][]string
	// oktaGroup names the Okta group a synced Tailscale group follows.
	oktaGroup map[string]string
	// departed holds the emails Okta itself says are no longer ACTIVE
	// (suspended, deactivated, deleted): their removal is never braked,
	// and they hold no grant's membership either.
	departed map[string]bool
}

// computeDesired reads the database: synced groups get the ACTIVE members of
// their Okta group in the directory snapshot; resource groups get the holders
// of active grants.
func computeDesired(ctx context.Context, db *gorm.DB, c *grants.Catalog) (*desiredState, error) {
	d := &desiredState{members: map[string][]string{}, oktaGroup: map[string]string{}, departed: map[string]bool{}}
	var departed []string
	err := db.WithContext(ctx).Model(&grants.DirectoryUser{}).
		Where("status <> ? AND email <> ''", grants.StatusActive).
		Where("email NOT IN (?)", db.Model(&grants.DirectoryUser{}).Select("email").Where("status = ?", grants.StatusActive)).
		Pluck("email", &departed).Error
	if err != nil {
		return nil, fmt.Errorf("reading departed users: %w", err)
	}
	for _, e := range departed {
		d.departed[e] = true
	}
	byOkta := map[string][]string{} // Okta group name -> tailscale groups
	var names []string
	for ts, okta := range c.Groups {
		d.members[ts] = []string{}
		d.oktaGroup[ts] = okta
		if _, seen := byOkta[okta]; !seen {
			names = append(names, okta)
		}
		byOkta[okta] = append(byOkta[okta], ts)
	}
	if len(names) > 0 {
		var rows []struct {
			GroupName string
			Email     string
		}
		err := db.WithContext(ctx).Table("directory_memberships m").
			Select("g.name AS group_name, u.email AS email").
			Joins("JOIN directory_groups g ON g.id = m.group_id").
			Joins("JOIN directory_users u ON u.id = m.user_id").
			Where("g.name IN ? AND u.status = ? AND u.email <> ''", names, grants.StatusActive).
			Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("reading synced group members: %w", err)
		}
		for _, r := range rows {
			for _, ts := range byOkta[r.GroupName] {
				d.members[ts] = append(d.members[ts], r.Email)
			}
		}
	}
	for _, r := range c.Resources {
		if _, ok := d.members[r.Group]; !ok {
			d.members[r.Group] = []string{}
		}
	}
	holders, err := grants.ActiveGrantHolders(ctx, db)
	if err != nil {
		return nil, err
	}
	for group, emails := range holders {
		if _, managed := d.members[group]; !managed {
			continue
		}
		for _, e := range emails {
			if !d.departed[e] {
				d.members[group] = append(d.members[group], e)
			}
		}
	}
	for g, m := range d.members {
		d.members[g] = NormalizeMembers(m)
	}
	return d, nil
}
