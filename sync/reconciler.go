package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"github.com/aymanbagabas/go-udiff"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
)

// BrakeConfig is the mass-removal brake: a pass that would remove more than
// max(MinPeople, Share × members) of a synced group's members because of Okta
// data holds that group until an admin confirms.
type BrakeConfig struct {
	MinPeople int     // default 5
	Share     float64 // default 0.2
}

// ReconcilerOptions configure a Reconciler.
type ReconcilerOptions struct {
	DB      *database.DB
	Catalog func() *grants.Catalog
	Policy  PolicyStore
	Clock   func() time.Time
	// MinInterval is the least time between the starts of two passes, so a
	// burst of changes becomes a few writes (default 100ms).
	MinInterval time.Duration
	// Resync runs a pass this often without a wake, catching drift (default 1m).
	Resync time.Duration
	// MaxAttempts bounds writes per pass when the policy keeps changing underneath (default 6).
	MaxAttempts int
	Brake       BrakeConfig
	Metrics     *Metrics
}

// Reconciler makes the managed groups of the tailnet policy equal to the
// desired state computed from the database. It is level-triggered: every
// event only wakes it, and a burst of wakes becomes one pass.
type Reconciler struct {
	o    ReconcilerOptions
	wake chan struct{}

	mu      gosync.Mutex
	waiters []chan struct{} // woken after the next pass completes
}

// NewReconciler builds a reconciler; call Run to start its loop.
func NewReconciler(o ReconcilerOptions) *Reconciler {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.MinInterval == 0 {
		o.MinInterval = 100 * time.Millisecond
	}
	if o.Resync == 0 {
		o.Resync = time.Minute
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 6
	}
	if o.Brake.MinPeople == 0 {
		o.Brake.MinPeople = 5
	}
	if o.Brake.Share == 0 {
		o.Brake.Share = 0.2
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	return &Reconciler{o: o, wake: make(chan struct{}, 1)}
}

// Wake asks for a pass soon. It never blocks.
func (r *Reconciler) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run is the reconciler loop: it runs until ctx ends. A wake after a quiet
// period starts a pass at once; wakes during or right after a pass are served
// together by one pass MinInterval after the previous one started. A failed
// pass is retried with exponential backoff (capped at a minute), and wakes do
// not cut the backoff short: the retry reads the latest state anyway.
func (r *Reconciler) Run(ctx context.Context) {
	backoff := time.Duration(0)
	var lastStart time.Time
	timer := time.NewTimer(0) // a first pass at once
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
			if backoff > 0 {
				continue
			}
			if wait := r.o.MinInterval - time.Since(lastStart); wait > 0 {
				spacing := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					spacing.Stop()
					return
				case <-spacing.C:
				}
			}
		case <-timer.C:
		}
		select { // this pass serves every wake so far
		case <-r.wake:
		default:
		}
		lastStart = time.Now()
		_, err := r.Pass(ctx)
		if ctx.Err() != nil {
			return
		}
		next := r.o.Resync
		if err != nil {
			backoff = min(max(2*backoff, time.Second), time.Minute)
			next = backoff
			slog.Warn("reconcile failed", "err", err, "retry_in", backoff)
		} else {
			backoff = 0
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// PassResult says what one pass did.
type PassResult struct {
	Wrote   bool
	Changes []GroupChange
	Held    []string // synced groups held by the brake
	ETag    string
}

// Plan is what a pass would write, without writing it.
type Plan struct {
	Old, New []byte
	ETag     string
	Changes  []GroupChange
	Held     []string

	// current are the groups of Old as written; last the members the
	// reconciler last confirmed, by managed group (for drift).
	current, last map[string][]string
}

// Diff is the unified diff of the policy file the plan would write.
func (p *Plan) Diff() string {
	return udiff.Unified("tailnet policy (current)", "tailnet policy (after reconcile)", string(p.Old), string(p.New))
}

// Plan reads the database (db, or the reconciler's own when nil) and the
// policy and computes what a pass would write; it changes nothing.
func (r *Reconciler) Plan(ctx context.Context, db *gorm.DB) (*Plan, error) {
	if db == nil {
		db = r.o.DB.DB
	}
	return r.planCatalog(ctx, db, r.o.Catalog())
}

// plan patches pol toward d, applying the brake. With record, new holds are
// stored and audited (drift is audited by Pass, on every attempt).
func (r *Reconciler) plan(ctx context.Context, db *gorm.DB, d *desiredState, pol Policy, record bool) (*Plan, error) {
	current, err := ReadGroups(pol.Text)
	if err != nil {
		return nil, fmt.Errorf("parsing tailnet policy: %w", err)
	}
	last, err := lastApplied(ctx, db)
	if err != nil {
		return nil, err
	}
	holds, err := holds(ctx, db)
	if err != nil {
		return nil, err
	}
	now := r.o.Clock()
	target := make(map[string][]string, len(d.members))
	var held []string
	for group, want := range d.members {
		target[group] = want
		okta, synced := d.oktaGroup[group]
		if !synced {
			continue
		}
		good, known := last[group]
		if !known {
			good = NormalizeMembers(current[group])
		}
		removed := minus(good, want)
		// People Okta says have left are not "inferred from a listing":
		// they never count toward the brake.
		inferred := 0
		for _, m := range removed {
			if !d.departed[m] {
				inferred++
			}
		}
		limit := max(r.o.Brake.MinPeople, int(r.o.Brake.Share*float64(len(good))))
		h, hasHold := holds[group]
		switch {
		case inferred <= limit:
			if hasHold && record {
				r.dropHold(ctx, group)
			}
		case hasHold && h.ConfirmedAt != nil:
			// An admin confirmed: let the removal through.
		default:
			held = append(held, group)
			target[group] = NormalizeMembers(append(slices.Clone(want), removed...))
			if record && !hasHold {
				if err := r.hold(ctx, group, okta, removed, len(good), now); err != nil {
					return nil, err
				}
			}
		}
	}
	newText, changes, err := PatchGroups(pol.Text, target)
	if err != nil {
		return nil, fmt.Errorf("patching tailnet policy: %w", err)
	}
	slices.Sort(held)
	return &Plan{Old: pol.Text, New: newText, ETag: pol.ETag, Changes: changes, Held: held, current: current, last: last}, nil
}

// Pass runs one reconcile: compute, read, patch, validate, write with
// If-Match (re-reading on 412), confirm, record.
func (r *Reconciler) Pass(ctx context.Context) (res PassResult, err error) {
	start := r.o.Clock()
	began := time.Now() // the metric measures real time, whatever the clock says
	defer func() {
		r.o.Metrics.observePass(time.Since(began), err)
		r.recordStatus(context.WithoutCancel(ctx), start, res, err)
		r.notifyWaiters()
	}()
	d, err := desiredFor(ctx, r.o.DB.DB, r.o.Catalog())
	if err != nil {
		return res, err
	}
	// Drift already audited in this pass, by group: a retry after 412
	// audits only a hand edit that landed since the previous attempt.
	audited := map[string][]string{}
	for attempt := 1; ; attempt++ {
		pol, err := r.o.Policy.ReadPolicy(ctx)
		if err != nil {
			return res, err
		}
		p, err := r.plan(ctx, r.o.DB.DB, d, pol, attempt == 1)
		if err != nil {
			return res, err
		}
		if err := r.auditDrift(ctx, d, p.current, p.last, audited, r.o.Clock()); err != nil {
			return res, err
		}
		res.Held, res.ETag = p.Held, pol.ETag
		if len(p.Changes) == 0 {
			return res, r.confirm(ctx, d, pol.Text, nil)
		}
		if err := r.o.Policy.ValidatePolicy(ctx, p.New); err != nil {
			return res, err
		}
		err = r.o.Policy.WritePolicy(ctx, p.New, pol.ETag)
		if errors.Is(err, ErrStalePolicy) && attempt < r.o.MaxAttempts {
			r.o.Metrics.Conflicts.Inc()
			// Someone else wrote between our read and write: re-read and
			// re-apply after a short jittered pause.
			jitter := time.Duration(rand.Int64N(int64(50*time.Millisecond) * int64(attempt)))
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(jitter):
			}
			continue
		}
		if err != nil {
			return res, err
		}
		r.o.Metrics.Writes.Inc()
		res.Wrote, res.Changes = true, p.Changes
		// The tailnet took p.New with If-Match: at that moment it held
		// exactly p.New. Record that before anything else can fail, so that
		// a failed read-back loses neither the audit event of this write nor
		// the grant stamps, and the next pass does not take the portal's own
		// write for a hand edit. (Confirming whatever a read-back returns
		// would also record a hand edit landing right after the write as
		// the portal's own, hiding it from drift detection.)
		if err := r.confirm(ctx, d, p.New, p.Changes); err != nil {
			return res, err
		}
		after, err := r.o.Policy.ReadPolicy(ctx)
		if err != nil {
			return res, fmt.Errorf("reading the policy back after writing it: %w", err)
		}
		res.ETag = after.ETag
		return res, nil
	}
}

// confirm records what the confirmed policy text holds: last applied members
// of every managed group, grant applied/removed stamps, and one audit event
// for the changes written.
func (r *Reconciler) confirm(ctx context.Context, d *desiredState, text []byte, changes []GroupChange) error {
	groups, err := ReadGroups(text)
	if err != nil {
		return fmt.Errorf("parsing confirmed policy: %w", err)
	}
	now := r.o.Clock()
	confirmed := make(map[string][]string, len(d.members))
	for g := range d.members {
		confirmed[g] = NormalizeMembers(groups[g])
	}
	db := r.o.DB.DB.WithContext(ctx)
	err = db.Transaction(func(tx *gorm.DB) error {
		rows := make([]managedGroup, 0, len(confirmed))
		for g, m := range confirmed {
			b, _ := json.Marshal(m)
			rows = append(rows, managedGroup{Name: g, Members: string(b), UpdatedAt: now.UTC()})
		}
		// Forget groups the catalog no longer manages: edits to them are not
		// drift, and if they become managed again the brake starts from the
		// policy as it is then, not from what the portal wrote long ago.
		stale := tx.Where("1 = 1")
		if len(confirmed) > 0 {
			stale = tx.Where("name NOT IN ?", sortedKeys(confirmed))
		}
		if err := stale.Delete(&managedGroup{}).Error; err != nil {
			return fmt.Errorf("forgetting unmanaged groups: %w", err)
		}
		if len(rows) > 0 {
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "name"}},
				DoUpdates: clause.AssignmentColumns([]string{"members", "updated_at"}),
			}).CreateInBatches(rows, 200).Error
			if err != nil {
				return fmt.Errorf("recording managed groups: %w", err)
			}
		}
		if len(changes) > 0 {
			details := map[string]any{}
			for _, c := range changes {
				details[c.Group] = map[string]any{"added": nonNil(c.Added), "removed": nonNil(c.Removed), "created": c.Created}
			}
			if err := grants.AppendAudit(ctx, tx, grants.Event{At: now, Actor: "system", Action: "sync.apply", Target: "tailnet policy", Details: details}); err != nil {
				return err
			}
		}
		applied, removed, err := grants.ConfirmGrants(ctx, tx, confirmed, now)
		if err != nil {
			return err
		}
		for _, g := range applied {
			if err := grants.AppendAudit(ctx, tx, grants.Event{At: now, Actor: "system", Action: "grant.applied", Target: fmt.Sprintf("grant:%d", g.ID),
				Details: map[string]any{"user": g.UserEmail, "group": g.GroupName, "resource": g.Resource}}); err != nil {
				return err
			}
		}
		for _, g := range removed {
			if err := grants.AppendAudit(ctx, tx, grants.Event{At: now, Actor: "system", Action: "grant.removed", Target: fmt.Sprintf("grant:%d", g.ID),
				Details: map[string]any{"user": g.UserEmail, "group": g.GroupName, "resource": g.Resource}}); err != nil {
				return err
			}
		}
		return grants.ConfirmOffboardings(ctx, tx, confirmed, now)
	})
	if err != nil {
		return err
	}
	// A confirmed hold is used up once its removal is in the policy.
	for g := range confirmed {
		r.dropConfirmedHoldIfApplied(ctx, g, confirmed[g])
	}
	return nil
}

// managedGroup is what the reconciler last confirmed for one managed group.
type managedGroup struct {
	Name      string `gorm:"primaryKey"`
	Members   string // JSON array
	UpdatedAt time.Time
}

func (managedGroup) TableName() string { return "managed_groups" }

func lastApplied(ctx context.Context, db *gorm.DB) (map[string][]string, error) {
	var rows []managedGroup
	if err := db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("reading managed groups: %w", err)
	}
	out := make(map[string][]string, len(rows))
	for _, row := range rows {
		var m []string
		if err := json.Unmarshal([]byte(row.Members), &m); err != nil {
			return nil, fmt.Errorf("decoding managed group %s: %w", row.Name, err)
		}
		out[row.Name] = m
	}
	return out, nil
}

// auditDrift records every managed group whose members in the policy differ
// from what the reconciler last confirmed: someone edited it by hand. Groups
// the catalog no longer manages are not the portal's, and a group whose
// drift audited already holds the same members found is not audited again.
func (r *Reconciler) auditDrift(ctx context.Context, d *desiredState, current, last, audited map[string][]string, now time.Time) error {
	for _, g := range sortedKeys(last) {
		if _, managed := d.members[g]; !managed {
			continue
		}
		found := NormalizeMembers(current[g])
		if slices.Equal(found, last[g]) {
			continue
		}
		if prev, seen := audited[g]; seen && slices.Equal(prev, found) {
			continue
		}
		audited[g] = found
		slog.Warn("drift in managed group", "group", g, "expected", last[g], "found", found)
		r.o.Metrics.Drift.Inc()
		err := grants.AppendAudit(ctx, r.o.DB.DB, grants.Event{At: now, Actor: "system", Action: "sync.drift", Target: g,
			Details: map[string]any{"expected": nonNil(last[g]), "found": nonNil(found), "added": nonNil(minus(found, last[g])), "removed": nonNil(minus(last[g], found))}})
		if err != nil {
			return err
		}
	}
	return nil
}

// SyncHold is a synced group held by the mass-removal brake.
type SyncHold struct {
	GroupName   string `gorm:"primaryKey" json:"group"`
	OktaGroup   string `json:"oktaGroup"`
	Removals    string `json:"-"` // JSON array of emails the pass wanted to remove
	Members     int    `json:"members"`
	HeldAt      time.Time
	ConfirmedBy string     `json:"confirmedBy"`
	ConfirmedAt *time.Time `json:"confirmedAt"`
}

// TableName is the table of holds.
func (SyncHold) TableName() string { return "sync_holds" }

// RemovalList decodes the members the held pass wanted to remove.
func (h *SyncHold) RemovalList() []string {
	var out []string
	json.Unmarshal([]byte(h.Removals), &out)
	return out
}

func holds(ctx context.Context, db *gorm.DB) (map[string]SyncHold, error) {
	var rows []SyncHold
	if err := db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("reading holds: %w", err)
	}
	out := make(map[string]SyncHold, len(rows))
	for _, h := range rows {
		out[h.GroupName] = h
	}
	return out, nil
}

func (r *Reconciler) hold(ctx context.Context, group, okta string, removed []string, members int, now time.Time) error {
	b, _ := json.Marshal(removed)
	slog.Warn("mass removal held", "group", group, "okta_group", okta, "removals", len(removed), "members", members)
	r.o.Metrics.Holds.Inc()
	return r.o.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		h := SyncHold{GroupName: group, OktaGroup: okta, Removals: string(b), Members: members, HeldAt: now.UTC()}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&h).Error; err != nil {
			return fmt.Errorf("recording hold: %w", err)
		}
		return grants.AppendAudit(ctx, tx, grants.Event{At: now, Actor: "system", Action: "sync.hold", Target: group,
			Details: map[string]any{"oktaGroup": okta, "wouldRemove": removed, "members": members,
				"reason": fmt.Sprintf("would remove %d of %d members of %s at once", len(removed), members, group)}})
	})
}

func (r *Reconciler) dropHold(ctx context.Context, group string) {
	r.o.DB.WithContext(ctx).Where("group_name = ?", group).Delete(&SyncHold{})
}

func (r *Reconciler) dropConfirmedHoldIfApplied(ctx context.Context, group string, members []string) {
	var h SyncHold
	if err := r.o.DB.WithContext(ctx).Where("group_name = ? AND confirmed_at IS NOT NULL", group).Take(&h).Error; err != nil {
		return
	}
	for _, m := range h.RemovalList() {
		if slices.Contains(members, m) {
			return
		}
	}
	r.dropHold(ctx, group)
}

// ErrNoHold means there is no hold on that group.
var ErrNoHold = errors.New("no held removal for that group")

// ConfirmHold lets a held removal through on the next pass (an admin's
// decision, audited). group "" confirms every hold.
func ConfirmHold(ctx context.Context, db *gorm.DB, group, admin string, now time.Time) ([]string, error) {
	var confirmed []string
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("confirmed_at IS NULL")
		if group != "" {
			q = q.Where("group_name = ?", group)
		}
		var hs []SyncHold
		if err := q.Find(&hs).Error; err != nil {
			return err
		}
		if len(hs) == 0 {
			return ErrNoHold
		}
		t := now.UTC()
		for _, h := range hs {
			if err := tx.Model(&SyncHold{}).Where("group_name = ?", h.GroupName).Updates(map[string]any{"confirmed_by": admin, "confirmed_at": t}).Error; err != nil {
				return err
			}
			if err := grants.AppendAudit(ctx, tx, grants.Event{At: now, Actor: admin, Action: "sync.hold.confirm", Target: h.GroupName,
				Details: map[string]any{"removals": h.RemovalList()}}); err != nil {
				return err
			}
			confirmed = append(confirmed, h.GroupName)
		}
		return nil
	})
	return confirmed, err
}

// Holds lists the current holds.
func Holds(ctx context.Context, db *gorm.DB) ([]SyncHold, error) {
	var hs []SyncHold
	err := db.WithContext(ctx).Order("group_name").Find(&hs).Error
	return hs, err
}

// recordStatus writes the outcome of a pass to sync_status (row 1).
func (r *Reconciler) recordStatus(ctx context.Context, start time.Time, res PassResult, passErr error) {
	st := map[string]any{"last_run_at": start.UTC()}
	if passErr != nil {
		st["last_error"] = passErr.Error()
	} else {
		st["last_success_at"] = r.o.Clock().UTC()
		st["last_error"] = ""
		st["policy_etag"] = res.ETag
	}
	var open []SyncHold
	r.o.DB.WithContext(ctx).Where("confirmed_at IS NULL").Order("group_name").Find(&open)
	st["held"] = len(open) > 0
	reasons := make([]string, 0, len(open))
	for _, h := range open {
		reasons = append(reasons, fmt.Sprintf("%s: %d of %d members would be removed (Okta group %q); confirm to proceed", h.GroupName, len(h.RemovalList()), h.Members, h.OktaGroup))
	}
	st["held_reason"] = strings.Join(reasons, "; ")
	db := r.o.DB.WithContext(ctx)
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&grants.SyncStatus{ID: 1}).Error; err != nil {
		slog.Error("recording sync status", "err", err)
		return
	}
	if err := db.Model(&grants.SyncStatus{}).Where("id = 1").Updates(st).Error; err != nil {
		slog.Error("recording sync status", "err", err)
	}
}

// WaitPass returns a channel closed after the next pass completes (tests,
// `portal sync`).
func (r *Reconciler) WaitPass() <-chan struct{} {
	ch := make(chan struct{})
	r.mu.Lock()
	r.waiters = append(r.waiters, ch)
	r.mu.Unlock()
	return ch
}

func (r *Reconciler) notifyWaiters() {
	r.mu.Lock()
	ws := r.waiters
	r.waiters = nil
	r.mu.Unlock()
	for _, ch := range ws {
		close(ch)
	}
}

// minus returns the members of a that are not in b (both sorted).
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
