package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aymanbagabas/go-udiff"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/policyfile"
	"github.com/accessportal/portal/sync/tailnet"
)

// BrakeConfig is the mass-removal brake: a pass that would remove more than
// max(MinPeople, Share × members) of a synced group's members because of Okta
// data holds that group until an admin confirms.
type BrakeConfig struct {
	MinPeople int     // default 5
	Share     float64 // default 0.2
}

// Options configure a Reconciler.
type Options struct {
	Store   *grants.Store
	Catalog func() *grants.Catalog
	Policy  tailnet.PolicyStore
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
	// OnRetry, when set, is told of every failed pass and the wait before
	// the next attempt.
	OnRetry func(err error, wait time.Duration)
	// Watch is how often the policy's ETag is read to find changes made
	// outside the portal (default 5s; negative: never).
	Watch time.Duration
	// Devices keeps the device posture of resources with devicePosture;
	// nil turns the second lock off.
	Devices DeviceAPI
	// PostureEvery is how often device postures are checked without a
	// wake, for devices added during a grant (default 1m).
	PostureEvery time.Duration
}

// Reconciler makes the managed groups of the tailnet policy equal to the
// desired state computed from the database. It is level-triggered: every
// event only wakes it, and a burst of wakes becomes one pass.
type Reconciler struct {
	o    Options
	wake chan struct{}
	// wakes counts every Wake (not WakeAgain); wakesWritten is its value
	// when the pass's last write was answered.
	wakes, wakesWritten atomic.Int64

	mu      sync.Mutex
	waiters []chan struct{} // woken after the next pass completes
	// kept is the policy the tailnet holds, as last read or written; nil
	// when unknown (see cache.go).
	kept *tailnet.Policy
	// parsed are the groups of the policy text whose ETag is parsedETag.
	parsed     map[string][]string
	parsedETag string
	// synced are the synced groups' members computed from the directory
	// snapshot of syncedVersion (see syncedMembers).
	synced        map[string]syncedGroup
	syncedVersion int64
	// writeLatency is the moving average of policy writes' durations.
	writeLatency time.Duration
	// warnings are the control plane's warnings at the last fresh read.
	warnings []string
	// postureWake wakes the posture loop; postureWarning says why the
	// second lock cannot be kept, when it cannot.
	postureWake    chan struct{}
	postureWarning string
	// changedBy is who changed the policy outside the portal, when a
	// webhook said so (see RefreshBy); the next fresh read takes it.
	changedBy string
	// stale is set by Refresh: the next pass reads the policy afresh even
	// if a pass running during the Refresh kept a copy afterwards.
	stale bool
}

// New builds a reconciler; call Run to start its loop.
func New(o Options) *Reconciler {
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
	if o.Watch == 0 {
		o.Watch = 5 * time.Second
	}
	if o.PostureEvery == 0 {
		o.PostureEvery = time.Minute
	}
	return &Reconciler{o: o, wake: make(chan struct{}, 1), postureWake: make(chan struct{}, 1)}
}

// Wake asks for a pass soon. It never blocks.
func (r *Reconciler) Wake() {
	r.wakes.Add(1)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// WakeAgain asks for a pass to record what a change already announced by
// Wake left behind (the offboarding cascade's revocations after the
// departure itself): it is no new change, so it never counts towards a
// burst.
func (r *Reconciler) WakeAgain() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run is the reconciler loop: it runs until ctx ends. A wake starts a pass
// at once, unless a burst is going on: changes coming faster than one per
// write (more than one while a pass prepared and made its write). Then the wakes are served
// together by one pass MinInterval after the previous one started (doubling
// while the burst lasts, at most 8×); two writing passes in a row with no
// change meanwhile, a pass that wrote nothing, or a quiet MinInterval end
// the burst. A failed
// pass is retried after the wait the control API asked for (Retry-After),
// else after a short exponential backoff (250ms doubling to 5s, jittered), so
// that the portal converges soon after a storm ends; wakes do not cut a wait
// short: the retry reads the latest state anyway.
func (r *Reconciler) Run(ctx context.Context) {
	r.forget() // whoever held the lease before may have written since
	if r.o.Watch > 0 {
		go r.watch(ctx, r.o.Watch)
	}
	if r.o.Devices != nil {
		go r.runPostures(ctx)
	}
	var backoff time.Duration
	var lastStart, lastEnd time.Time
	busy := 0                 // passes since the last quiet period during which wakes kept coming
	keptUp := 0               // writing passes in a row that kept up with the changes
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
			if time.Since(lastEnd) >= r.o.MinInterval {
				busy = 0 // a quiet period: the burst, if any, is over
			}
			// A lone change is applied at once; during a burst passes are
			// spaced by MinInterval, doubling up to 8× while it lasts, so a
			// burst of a second becomes about five writes.
			if wait := burstSpacing(busy, r.o.MinInterval) - time.Since(lastStart); wait > 0 {
				spacing := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					spacing.Stop()
					return
				case <-spacing.C:
				}
			}
		case <-timer.C:
			if time.Since(lastStart) >= r.o.Resync {
				r.forget() // a periodic pass reads the policy afresh
			}
		}
		select { // this pass serves every wake so far
		case <-r.wake:
		default:
		}
		lastStart = time.Now()
		wakes := r.wakes.Load()
		r.wakesWritten.Store(wakes)
		res, err := r.Pass(ctx)
		if ctx.Err() != nil {
			return
		}
		lastEnd = time.Now()
		// Changes that came while the pass prepared and made its write:
		// more than one says they come faster than one per write (a burst);
		// none, that the pass kept up. One change meanwhile is the next
		// pass's, at once, as is any that comes while the pass records a
		// write that landed.
		during := r.wakesWritten.Load() - wakes
		switch {
		case !res.Wrote:
			busy, keptUp = 0, 0 // nothing left to write: no burst is going on
		case during > 1:
			busy, keptUp = busy+1, 0 // it wrote, and more changes came meanwhile
		case during == 1:
			keptUp = 0
		default:
			// It kept up with the changes: twice in a row, the burst is over.
			if keptUp++; keptUp >= 2 {
				busy = 0
			}
		}
		r.wakePostures()
		next := r.untilNextEnd(ctx)
		if err != nil {
			backoff = retryBackoff(backoff)
			next = retryWait(err, backoff)
			slog.Warn("reconcile failed", "err", err, "retry_in", next)
			if r.o.OnRetry != nil {
				r.o.OnRetry(err, next)
			}
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

// burstSpacing is the least time between the starts of two passes at
// burst level busy (see Run): none at 0, then MinInterval, doubling up to
// 8×.
func burstSpacing(busy int, minInterval time.Duration) time.Duration {
	if busy == 0 {
		return 0
	}
	return minInterval << min(busy-1, 3)
}

// retryBackoff is the next step of the backoff for failures that name no
// wait: 250ms doubling up to 5s.
func retryBackoff(prev time.Duration) time.Duration {
	return min(max(2*prev, 250*time.Millisecond), 5*time.Second)
}

// retryWait is how long to wait after a failed pass: what the API asked for
// (at most 5 minutes) plus up to 10% jitter, or the backoff ±20%.
func retryWait(err error, backoff time.Duration) time.Duration {
	if d, ok := tailnet.RetryAfter(err); ok {
		d = min(d, 5*time.Minute)
		return d + time.Duration(rand.Int64N(int64(d/10)+1))
	}
	return backoff*4/5 + time.Duration(rand.Int64N(int64(backoff*2/5)+1))
}

// PassResult says what one pass did.
type PassResult struct {
	Wrote   bool
	Changes []policyfile.GroupChange
	Held    []string // synced groups held by the brake
	ETag    string
	// Warnings are members skipped and the control plane's warnings.
	Warnings []string
	// Refused are the managed groups whose change the control plane
	// refused, with its message; every other change was written.
	Refused map[string]string
}

// Plan is what a pass would write, without writing it.
type Plan struct {
	Old, New []byte
	ETag     string
	Changes  []policyfile.GroupChange
	Held     []string

	// current are the groups of Old, normalized; last the members the
	// reconciler last confirmed, by managed group (for drift); target the
	// members New gives each managed group.
	current, last, target map[string][]string
}

// Diff is the unified diff of the policy file the plan would write.
func (p *Plan) Diff() string {
	return udiff.Unified("tailnet policy (current)", "tailnet policy (after reconcile)", string(p.Old), string(p.New))
}

// plan patches pol toward d, applying the brake. With record, new holds are
// stored and audited (drift is audited by Pass, on every attempt).
func (r *Reconciler) plan(ctx context.Context, s *grants.Store, d *desiredState, pol tailnet.Policy, record bool) (*Plan, error) {
	current, err := r.readGroups(pol)
	if err != nil {
		return nil, fmt.Errorf("parsing tailnet policy: %w", err)
	}
	applied, err := s.AppliedGroups(ctx)
	if err != nil {
		return nil, err
	}
	last := make(map[string][]string, len(applied))
	for g, a := range applied {
		last[g] = a.Members
	}
	holds, err := s.HoldsByGroup(ctx)
	if err != nil {
		return nil, err
	}
	now := r.o.Clock()
	target := make(map[string][]string, len(d.members))
	var held []string
	for group, want := range d.members {
		okta, synced := d.oktaGroup[group]
		if synced && d.unread[group] {
			// Before a read of its Okta group a synced group keeps what
			// the policy has; only people Okta said have left go.
			want = slices.DeleteFunc(slices.Clone(current[group]), func(m string) bool { return d.departed[m] })
		}
		target[group] = want
		if !synced {
			continue
		}
		good, known := last[group]
		if !known {
			good = current[group]
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
				if err := s.DropHold(ctx, group); err != nil {
					return nil, err
				}
			}
		case hasHold && h.ConfirmedAt != nil:
			// An admin confirmed: let the removal through.
		default:
			held = append(held, group)
			target[group] = policyfile.NormalizeMembers(append(slices.Clone(want), removed...))
			if record && !hasHold {
				slog.Warn("mass removal held", "group", group, "okta_group", okta, "removals", len(removed), "members", len(good))
				r.o.Metrics.Holds.Inc()
				if err := s.Hold(ctx, group, okta, removed, len(good), now); err != nil {
					return nil, err
				}
			}
		}
	}
	newText, changes := pol.Text, []policyfile.GroupChange(nil)
	if !policyfile.Holds(current, target) { // the usual pass changes nothing: no second parse
		if newText, changes, err = policyfile.PatchGroups(pol.Text, target); err != nil {
			return nil, fmt.Errorf("patching tailnet policy: %w", err)
		}
	}
	slices.Sort(held)
	return &Plan{Old: pol.Text, New: newText, ETag: pol.ETag, Changes: changes, Held: held, current: current, last: last, target: target}, nil
}

// Pass runs one reconcile: compute, read, patch, validate, write with
// If-Match (re-reading on 412), confirm, record.
func (r *Reconciler) Pass(ctx context.Context) (res PassResult, err error) {
	start := r.o.Clock()
	began := time.Now() // the metric measures real time, whatever the clock says
	// Read before the desired state: the pass reflects Okta only when a
	// complete read was in the snapshot it computed from.
	complete, err := r.o.Store.DirectoryComplete(ctx)
	if err != nil {
		return res, err
	}
	defer func() {
		r.o.Metrics.observePass(time.Since(began), err)
		r.recordStatus(context.WithoutCancel(ctx), start, res, complete, err)
		r.notifyWaiters()
	}()
	d, err := r.desiredFor(ctx, r.o.Store, r.o.Catalog())
	if err != nil {
		return res, err
	}
	// Drift already audited in this pass, by group: a retry after 412
	// audits only a hand edit that landed since the previous attempt.
	audited := map[string][]string{}
	changedBy := ""
	for attempt := 1; ; attempt++ {
		pol, fresh, err := r.current(ctx)
		if err != nil {
			return res, err
		}
		if fresh {
			r.readWarnings(ctx, pol)
			changedBy = cmp.Or(r.takeChangedBy(), changedBy)
		}
		p, err := r.plan(ctx, r.o.Store, d, pol, attempt == 1)
		if err != nil {
			return res, err
		}
		if err := r.auditDrift(ctx, d, p.current, p.last, audited, r.o.Clock(), changedBy); err != nil {
			return res, err
		}
		res.Held, res.ETag, res.Warnings = p.Held, pol.ETag, r.allWarnings(d)
		if len(p.Changes) == 0 {
			return res, r.confirm(ctx, d, pol, nil)
		}
		p, written, err := r.write(ctx, p, &res)
		if errors.Is(err, tailnet.ErrStalePolicy) && attempt < r.o.MaxAttempts {
			r.o.Metrics.Conflicts.Inc()
			// Someone else wrote since the policy was read: re-read and
			// re-apply after a short jittered pause.
			jitter := time.Duration(rand.Int64N(int64(50*time.Millisecond) * int64(attempt)))
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(jitter):
			}
			continue
		}
		if err != nil || len(p.Changes) == 0 {
			if err == nil {
				err = r.confirm(ctx, d, pol, nil)
			}
			return res, err
		}
		res.Wrote, res.Changes, res.ETag = true, p.Changes, written.ETag
		// The tailnet took p.New with If-Match, and its answer says what it
		// holds now: that is confirmed, no read-back. (Confirming a later
		// read would record a hand edit landing right after the write as
		// the portal's own, hiding it from drift detection.)
		return res, r.confirm(ctx, d, written, p.Changes)
	}
}

// write writes the plan with If-Match. When the tailnet refuses it, the
// groups whose change it refuses alone are left out (see validate) and the
// rest is written. It keeps what the tailnet holds afterwards, or forgets
// the kept policy when that is unknown (any failure).
func (r *Reconciler) write(ctx context.Context, p *Plan, res *PassResult) (*Plan, tailnet.Policy, error) {
	written, err := r.writeOnce(ctx, p)
	var refusal *tailnet.ValidationError
	if errors.As(err, &refusal) {
		var warnings []string
		p, warnings, res.Refused, err = r.validate(ctx, p, refusal)
		res.Warnings = append(res.Warnings, warnings...)
		if err == nil && len(p.Changes) > 0 {
			written, err = r.writeOnce(ctx, p)
		}
	}
	if err != nil {
		r.forget()
		return p, written, err
	}
	if len(p.Changes) > 0 {
		r.o.Metrics.Writes.Inc()
		r.keep(written)
	}
	return p, written, nil
}

// writeOnce writes p.New against the ETag it was planned from, if this
// process still holds the lease, and measures the write.
func (r *Reconciler) writeOnce(ctx context.Context, p *Plan) (tailnet.Policy, error) {
	// Only the lease holder writes: one that lost its lease stops here.
	if err := grants.CheckLease(ctx); err != nil {
		return tailnet.Policy{}, err
	}
	began := time.Now()
	written, err := r.o.Policy.WritePolicy(ctx, p.New, p.ETag)
	if err == nil {
		r.wakesWritten.Store(r.wakes.Load())
		r.measured(time.Since(began))
		if len(written.Text) == 0 {
			written.Text = p.New
		}
	}
	return written, err
}

// readWarnings asks the control plane, after a fresh read, what it warns
// about in the policy (warnings are no refusal); they are reported with
// every pass until the next fresh read.
func (r *Reconciler) readWarnings(ctx context.Context, pol tailnet.Policy) {
	warnings, err := r.o.Policy.ValidatePolicy(ctx, pol.Text)
	if err != nil {
		return // a refusal of the policy as it stands shows when writing
	}
	r.mu.Lock()
	r.warnings = warnings
	r.mu.Unlock()
}

// allWarnings are the pass's own warnings, the control plane's, and why
// device posture cannot be kept.
func (r *Reconciler) allWarnings(d *desiredState) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := append(slices.Clone(d.warnings), r.warnings...)
	if r.postureWarning != "" {
		w = append(w, r.postureWarning)
	}
	return w
}

// untilNextEnd is how long until the next pass is due: the periodic pass,
// or sooner the moment a removing write must start to land at the next
// grant's end.
func (r *Reconciler) untilNextEnd(ctx context.Context) time.Duration {
	lead := r.lead()
	now := r.o.Clock()
	end, ok, err := r.o.Store.NextGrantEnd(ctx, now.Add(lead))
	if err != nil || !ok {
		return r.o.Resync
	}
	return min(r.o.Resync, max(end.Sub(now)-lead, 0))
}

// confirm records what the confirmed policy text holds: last applied members
// of every managed group, grant applied/removed stamps, and one audit event
// for the changes written; a confirmed hold is used up once its removal is
// in the policy.
func (r *Reconciler) confirm(ctx context.Context, d *desiredState, pol tailnet.Policy, changes []policyfile.GroupChange) error {
	groups, err := r.readGroups(pol)
	if err != nil {
		return fmt.Errorf("parsing confirmed policy: %w", err)
	}
	confirmed := make(map[string][]string, len(d.members))
	for g := range d.members {
		confirmed[g] = groups[g]
		if confirmed[g] == nil {
			confirmed[g] = []string{}
		}
	}
	written := make([]grants.GroupChange, len(changes))
	for i, c := range changes {
		written[i] = grants.GroupChange(c)
	}
	if err := r.o.Store.ConfirmPolicy(ctx, confirmed, written, pol.ETag, r.o.Clock(), d.endedBy); err != nil {
		return err
	}
	return r.o.Store.DropUsedHolds(ctx, confirmed)
}

// auditDrift records every managed group whose members in the policy differ
// from what the reconciler last confirmed: someone edited it by hand. Groups
// the catalog no longer manages are not the portal's, and a group whose
// drift audited already holds the same members found is not audited again.
func (r *Reconciler) auditDrift(ctx context.Context, d *desiredState, current, last, audited map[string][]string, now time.Time, changedBy string) error {
	for _, g := range slices.Sorted(maps.Keys(last)) {
		if _, managed := d.members[g]; !managed {
			continue
		}
		found := current[g]
		if slices.Equal(found, last[g]) {
			continue
		}
		if prev, seen := audited[g]; seen && slices.Equal(prev, found) {
			continue
		}
		audited[g] = found
		slog.Warn("drift in managed group", "group", g, "expected", last[g], "found", found)
		r.o.Metrics.Drift.Inc()
		details := map[string]any{"expected": nonNil(last[g]), "found": nonNil(found), "added": nonNil(minus(found, last[g])), "removed": nonNil(minus(last[g], found))}
		if changedBy != "" {
			details["changedBy"] = changedBy
		}
		err := r.o.Store.AppendAudit(ctx, grants.Event{At: now, Actor: "system", Action: "sync.drift", Target: g, Details: details})
		if err != nil {
			return err
		}
	}
	return nil
}

// recordStatus writes the outcome of a pass to the sync status.
func (r *Reconciler) recordStatus(ctx context.Context, start time.Time, res PassResult, complete bool, passErr error) {
	rec := grants.PassRecord{Start: start, End: r.o.Clock(), ETag: res.ETag, Complete: complete, Err: passErr, Warnings: res.Warnings, Refusals: res.Refused,
		AdminGroups: r.o.Catalog().Admins}
	if err := r.o.Store.RecordPass(ctx, rec); err != nil {
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
