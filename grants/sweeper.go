package grants

import (
	"context"
	"fmt"
	"log/slog"
	gosync "sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DefaultRequestTTL is how long a request may stay pending before the
// sweeper expires it.
const DefaultRequestTTL = 24 * time.Hour

// sweepBatch is how many grants or requests one sweeper transaction ends.
const sweepBatch = 500

// SweeperOptions configure a Sweeper.
type SweeperOptions struct {
	Store *Store
	// RequestTTL is how long a request may stay pending (default 24h).
	RequestTTL time.Duration
	// Wake wakes the reconciler after grants expired.
	Wake func()
	// Clock returns the current time; time.Now when nil.
	Clock func() time.Time
	// After waits; time.After when nil (tests inject a fake clock's).
	After func(time.Duration) <-chan time.Time
	// MaxSleep bounds a sleep, so that grants created on other replicas
	// (whose wakes do not reach this one) are seen in time (default 30s).
	MaxSleep time.Duration
	// OnSweep, when set, is told the result of every pass (tests). It is
	// called once the sweeper's next sleep has been scheduled.
	OnSweep func(SweepResult, error)
}

// SweepResult says what one pass did.
type SweepResult struct {
	ExpiredGrants   []int64
	ExpiredRequests []int64
	// Next is when the next grant or pending request is due to expire;
	// zero when nothing is.
	Next time.Time
}

// Sweeper ends what is due: active grants at their expiresAt (to the
// second) and pending requests older than the request TTL. It sleeps until
// the next thing is due rather than ticking, and is woken early when a
// nearer deadline appears.
type Sweeper struct {
	o    SweeperOptions
	wake chan struct{}

	mu      gosync.Mutex
	planned time.Time // when the current sleep ends
}

// NewSweeper builds a sweeper; call Run to start it.
func NewSweeper(o SweeperOptions) *Sweeper {
	if o.RequestTTL <= 0 {
		o.RequestTTL = DefaultRequestTTL
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.MaxSleep <= 0 {
		o.MaxSleep = 30 * time.Second
	}
	return &Sweeper{o: o, wake: make(chan struct{}, 1)}
}

// Wake makes the sweeper look again now: call it after committing a grant
// or request, whose deadline may be nearer than the one it sleeps towards.
// It never blocks.
func (s *Sweeper) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Notify tells the sweeper something is due at t; it wakes only when t is
// before the end of its current sleep.
func (s *Sweeper) Notify(t time.Time) {
	s.mu.Lock()
	nearer := s.planned.IsZero() || t.Before(s.planned)
	s.mu.Unlock()
	if nearer {
		s.Wake()
	}
}

// Run sweeps until ctx ends. Its first pass handles everything that became
// due while no sweeper ran.
func (s *Sweeper) Run(ctx context.Context) {
	for {
		res, err := s.Sweep(ctx)
		if ctx.Err() != nil {
			return
		}
		now := s.o.Clock()
		sleep := s.o.MaxSleep
		switch {
		case err != nil:
			slog.Warn("sweeping expired grants and requests", "err", err)
			sleep = min(5*time.Second, s.o.MaxSleep)
		case !res.Next.IsZero():
			sleep = min(max(res.Next.Sub(now), 0), s.o.MaxSleep)
		}
		s.mu.Lock()
		s.planned = now.Add(sleep)
		s.mu.Unlock()
		timer := s.o.After(sleep)
		if s.o.OnSweep != nil {
			s.o.OnSweep(res, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer:
		}
	}
}

// Sweep makes one pass: it expires the active grants whose expiresAt has
// come (grant.expire) and the requests pending longer than the TTL
// (request.expire), each with its audit event in the transaction of the
// change, wakes the reconciler when grants ended, and says when the next
// thing is due.
func (s *Sweeper) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	now := s.o.Clock()
	var err error
	res.ExpiredGrants, err = s.o.Store.ExpireGrants(ctx, now)
	if len(res.ExpiredGrants) > 0 && s.o.Wake != nil {
		s.o.Wake()
	}
	if err != nil {
		return res, err
	}
	res.ExpiredRequests, err = s.o.Store.ExpireStaleRequests(ctx, s.o.RequestTTL, now)
	if err != nil {
		return res, err
	}
	res.Next, err = s.next(ctx)
	return res, err
}

// next is the earliest expiresAt of an active grant or expiry of a pending
// request.
func (s *Sweeper) next(ctx context.Context) (time.Time, error) {
	db := s.o.Store.db.WithContext(ctx)
	var g Grant
	if err := db.Select("id", "expires_at").Where("status = ?", GrantActive).Order("expires_at").Limit(1).Find(&g).Error; err != nil {
		return time.Time{}, fmt.Errorf("reading the next grant to expire: %w", err)
	}
	var r Request
	if err := db.Select("id", "created_at").Where("status = ?", RequestPending).Order("created_at").Limit(1).Find(&r).Error; err != nil {
		return time.Time{}, fmt.Errorf("reading the oldest pending request: %w", err)
	}
	var next time.Time
	if g.ID != 0 {
		next = g.ExpiresAt
	}
	if r.ID != 0 {
		if due := r.CreatedAt.Add(s.o.RequestTTL); next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next, nil
}

// ExpireGrants marks every active grant whose expiresAt is at or before now
// as expired, in batches of sweepBatch, each grant with its grant.expire
// audit event in the batch's transaction. It returns the ids it expired; the
// reconciler removes the users.
func (s *Store) ExpireGrants(ctx context.Context, now time.Time) ([]int64, error) {
	db := s.db.DB
	cutoff := dbTime(now)
	var expired []int64
	for {
		var batch []Grant
		err := inAuditedTx(ctx, db, func(tx *gorm.DB) error {
			// Locked, so that a grant revoked or extended meanwhile is
			// either seen as it now is or waits for this batch.
			err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
				Where("status = ? AND expires_at <= ?", GrantActive, cutoff).
				Order("expires_at, id").Limit(sweepBatch).Find(&batch).Error
			if err != nil || len(batch) == 0 {
				return err
			}
			ids := make([]int64, len(batch))
			events := make([]Event, len(batch))
			for i, g := range batch {
				ids[i] = g.ID
				events[i] = Event{At: now, Actor: "system", Action: "grant.expire", Target: grantTarget(g.ID),
					Details: map[string]any{"user": g.UserEmail, "resource": g.Resource, "group": g.GroupName, "expiresAt": g.ExpiresAt.UTC()}}
			}
			res := tx.Model(&Grant{}).Where("id IN ? AND status = ?", ids, GrantActive).Update("status", GrantExpired)
			if res.Error != nil {
				return fmt.Errorf("expiring grants: %w", res.Error)
			}
			if res.RowsAffected != int64(len(ids)) {
				return fmt.Errorf("expiring grants: %d of %d locked grants changed", res.RowsAffected, len(ids))
			}
			return appendAuditBatch(ctx, tx, events)
		})
		if err != nil {
			return expired, fmt.Errorf("expiring grants: %w", err)
		}
		for _, g := range batch {
			expired = append(expired, g.ID)
		}
		if len(batch) < sweepBatch {
			return expired, nil
		}
	}
}
