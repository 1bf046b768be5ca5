package grants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// managedGroup is what the reconciler last confirmed for one managed group.
type managedGroup struct {
	Name      string `gorm:"primaryKey"`
	Members   string // JSON array
	UpdatedAt time.Time
}

func (managedGroup) TableName() string { return "managed_groups" }

// AppliedGroup is what the reconciler last confirmed that the tailnet policy
// holds for one managed group.
type AppliedGroup struct {
	// Members are the group's members in the confirmed policy, sorted.
	Members []string
	// ConfirmedAt is when the reconciler confirmed these members, that is
	// when the group last changed to them (an unchanged group is not
	// rewritten on every pass).
	ConfirmedAt time.Time
}

// GroupChange says how one managed group's members changed in a policy write.
type GroupChange struct {
	Group   string
	Added   []string
	Removed []string
	Created bool
}

// LastApplied returns what the reconciler last confirmed for a managed
// group; ok is false when it has confirmed nothing for it yet (a group the
// catalog just started managing, or one it no longer manages).
func (s *Store) LastApplied(ctx context.Context, group string) (applied AppliedGroup, ok bool, err error) {
	var row managedGroup
	err = s.db.WithContext(ctx).Where("name = ?", group).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return applied, false, nil
	}
	if err != nil {
		return applied, false, fmt.Errorf("reading managed group %s: %w", group, err)
	}
	applied, err = row.applied()
	return applied, err == nil, err
}

// AppliedGroups returns what the reconciler last confirmed for every group
// it manages, by group. The members are shared with later answers: callers
// must not modify them.
func (s *Store) AppliedGroups(ctx context.Context) (map[string]AppliedGroup, error) {
	var rows []managedGroup
	if err := s.db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("reading managed groups: %w", err)
	}
	out := make(map[string]AppliedGroup, len(rows))
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	if s.dir.applied == nil {
		s.dir.applied = map[string]decodedMembers{}
	}
	seen := make(map[string]decodedMembers, len(rows))
	for _, row := range rows {
		// Decoding 10,000s of members every pass is most of a pass that
		// changes nothing: a row's text decodes as it did before.
		d, ok := s.dir.applied[row.Name]
		if !ok || d.text != row.Members {
			a, err := row.applied()
			if err != nil {
				return nil, err
			}
			d = decodedMembers{text: row.Members, members: a.Members}
		}
		seen[row.Name] = d
		out[row.Name] = AppliedGroup{Members: d.members, ConfirmedAt: row.UpdatedAt}
	}
	s.dir.applied = seen
	return out, nil
}

// decodedMembers is a managed group's stored members text and its decoding.
type decodedMembers struct {
	text    string
	members []string
}

func (row managedGroup) applied() (AppliedGroup, error) {
	a := AppliedGroup{ConfirmedAt: row.UpdatedAt}
	if err := json.Unmarshal([]byte(row.Members), &a.Members); err != nil {
		return AppliedGroup{}, fmt.Errorf("decoding managed group %s: %w", row.Name, err)
	}
	return a, nil
}

// ConfirmPolicy records what a confirmed policy holds for every managed
// group (members by group), in one transaction: the last applied members
// (groups no longer managed are forgotten), one sync.apply audit event for
// the changes written, grant applied/removed stamps with their audit events,
// and offboardings confirmed.
//
// Grants ending by endedBy count as ended (see ConfirmGrants); etag is the
// policy's ETag after the write, which the tailnet's configuration log
// names too.
func (s *Store) ConfirmPolicy(ctx context.Context, confirmed map[string][]string, changes []GroupChange, etag string, now, endedBy time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.saveManagedGroups(tx, confirmed, now); err != nil {
			return err
		}
		if len(changes) > 0 {
			details := map[string]any{}
			for _, c := range changes {
				details[c.Group] = map[string]any{"added": nonNil(c.Added), "removed": nonNil(c.Removed), "created": c.Created}
			}
			if etag != "" {
				details["etag"] = etag
			}
			if err := AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: "sync.apply", Target: "tailnet policy", Details: details}); err != nil {
				return err
			}
		}
		applied, removed, err := ConfirmGrants(ctx, tx, confirmed, now, endedBy)
		if err != nil {
			return err
		}
		if err := auditGrantStamps(ctx, tx, "grant.applied", applied, now); err != nil {
			return err
		}
		if err := auditGrantStamps(ctx, tx, "grant.removed", removed, now); err != nil {
			return err
		}
		if err := notifyGrantStamps(tx, applied, removed, now); err != nil {
			return err
		}
		return ConfirmOffboardings(ctx, tx, confirmed, now)
	})
}

func (s *Store) saveManagedGroups(tx *gorm.DB, confirmed map[string][]string, now time.Time) error {
	var stored []managedGroup
	if err := tx.Find(&stored).Error; err != nil {
		return fmt.Errorf("reading managed groups: %w", err)
	}
	before := make(map[string]string, len(stored))
	for _, row := range stored {
		before[row.Name] = row.Members
	}
	s.dir.mu.Lock()
	decoded := s.dir.applied
	s.dir.mu.Unlock()
	// Only groups whose members changed are written: a pass that changes
	// nothing writes nothing here (and, with the text it read decoded
	// already, encodes nothing either).
	var rows []managedGroup
	for _, g := range slices.Sorted(maps.Keys(confirmed)) {
		old, ok := before[g]
		if d, known := decoded[g]; ok && known && d.text == old && slices.Equal(d.members, nonNil(confirmed[g])) {
			continue
		}
		b, err := json.Marshal(nonNil(confirmed[g]))
		if err != nil {
			return fmt.Errorf("encoding managed group %s: %w", g, err)
		}
		if !ok || old != string(b) {
			rows = append(rows, managedGroup{Name: g, Members: string(b), UpdatedAt: now.UTC()})
		}
	}
	// Forget groups the catalog no longer manages: edits to them are not
	// drift, and if they become managed again the brake starts from the
	// policy as it is then, not from what the portal wrote long ago.
	var stale []string
	for name := range before {
		if _, managed := confirmed[name]; !managed {
			stale = append(stale, name)
		}
	}
	for chunk := range slices.Chunk(stale, 500) {
		if err := tx.Where("name IN ?", chunk).Delete(&managedGroup{}).Error; err != nil {
			return fmt.Errorf("forgetting unmanaged groups: %w", err)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	err := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"members", "updated_at"}),
	}).CreateInBatches(rows, 200).Error
	if err != nil {
		return fmt.Errorf("recording managed groups: %w", err)
	}
	return nil
}

func auditGrantStamps(ctx context.Context, tx *gorm.DB, action string, gs []Grant, now time.Time) error {
	for _, g := range gs {
		err := AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: action, Target: fmt.Sprintf("grant:%d", g.ID),
			Details: map[string]any{"user": g.UserEmail, "group": g.GroupName, "resource": g.Resource}})
		if err != nil {
			return err
		}
	}
	return nil
}

// nonNil is s, or an empty list for JSON.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
