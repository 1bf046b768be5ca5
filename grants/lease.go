package grants

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/accessportal/portal/grants/database"
)

// Lease is a named lock held in the database for a limited time, so that
// background loops run on one replica at a time.
type lease struct {
	Name      string `gorm:"primaryKey"`
	Holder    string
	ExpiresAt time.Time
}

func (lease) TableName() string { return "leases" }

// TryLease takes or renews the named lease for holder until now+ttl. It
// succeeds when the lease is free, expired, or already held by holder.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error) {
	db := s.db.DB
	now = now.UTC()
	until := now.Add(ttl)
	// One statement, atomic on both dialects: insert, or take over when
	// expired or ours.
	res := db.WithContext(ctx).Exec(`INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE leases.holder = excluded.holder OR leases.expires_at < ?`, name, holder, until, now)
	if res.Error != nil {
		return false, fmt.Errorf("taking lease %s: %w", name, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ReleaseLease gives the lease up so another replica can take it at once.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	db := s.db.DB
	return db.WithContext(ctx).Where("name = ? AND holder = ?", name, holder).Delete(&lease{}).Error
}

// LeaseHolder returns who holds the lease now, or "".
func (s *Store) LeaseHolder(ctx context.Context, name string, now time.Time) (string, error) {
	db := s.db.DB
	var l lease
	err := db.WithContext(ctx).Where("name = ? AND expires_at >= ?", name, now.UTC()).Limit(1).Find(&l).Error
	return l.Holder, err
}

// LeaseOptions tune RunUnderLease.
type LeaseOptions struct {
	Name   string
	Holder string
	// TTL is how long the holder's row in the leases table stays valid
	// without renewal; it is what the dashboard shows, not what decides: the
	// lock itself dies with its holder.
	TTL   time.Duration
	Clock func() time.Time
	// Retry is how often a process that does not hold the lock tries to take
	// it (default 200ms): a dead holder is replaced within that.
	Retry time.Duration
	// OnChange, when set, is told whether this process holds the lease.
	OnChange func(held bool)
}

// leaseKey carries the held lock in the context of the work done under it.
type leaseKey struct{}

// CheckLease verifies, before a write only the lease holder may make, that
// the lease under which ctx runs is still held; outside any lease (a one-off
// command, a test) there is nothing to check.
func CheckLease(ctx context.Context) error {
	if l, ok := ctx.Value(leaseKey{}).(*database.Lock); ok {
		return l.Check(ctx)
	}
	return nil
}

// RunUnderLease runs fn whenever this process holds the named lease: an
// exclusive lock that dies with its holder (database.Lock), so that a
// replica killed with SIGKILL is replaced within o.Retry. While fn runs the
// lock is checked every second and the holder is recorded in the leases
// table; when the lock is lost fn's context is cancelled, and when ctx ends
// the lock is released.
func (s *Store) RunUnderLease(ctx context.Context, o LeaseOptions, fn func(ctx context.Context)) {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Retry == 0 {
		o.Retry = 200 * time.Millisecond
	}
	ticker := time.NewTicker(o.Retry)
	defer ticker.Stop()
	for {
		l, ok, err := s.db.TryLock(ctx, o.Name)
		if err != nil && ctx.Err() == nil {
			slog.Warn("lease unavailable", "lease", o.Name, "err", err)
		}
		if ok {
			slog.Info("lease acquired", "lease", o.Name, "holder", o.Holder)
			if o.OnChange != nil {
				o.OnChange(true)
			}
			s.held(ctx, l, o, fn)
			if o.OnChange != nil {
				o.OnChange(false)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// held runs fn while the lock holds; it returns when fn returns, the lock
// is lost, or ctx ends, and releases the lock.
func (s *Store) held(ctx context.Context, l *database.Lock, o LeaseOptions, fn func(ctx context.Context)) {
	defer l.Release()
	fctx, cancel := context.WithCancel(context.WithValue(ctx, leaseKey{}, l))
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(fctx)
	}()
	s.recordHolder(ctx, o)
	check := time.NewTicker(time.Second)
	defer check.Stop()
	renew := time.NewTicker(max(o.TTL/3, time.Second))
	defer renew.Stop()
	for {
		select {
		case <-done:
			s.releaseRow(o)
			return
		case <-ctx.Done():
			<-done
			s.releaseRow(o)
			return
		case <-check.C:
			if err := l.Check(fctx); err != nil {
				slog.Warn("lease lost", "lease", o.Name, "err", err)
				cancel()
				<-done
				return
			}
		case <-renew.C:
			s.recordHolder(fctx, o)
		}
	}
}

// recordHolder writes this process into the leases table, whoever was
// there: the lock, not the row, says who holds the lease.
func (s *Store) recordHolder(ctx context.Context, o LeaseOptions) {
	now := o.Clock().UTC()
	err := s.db.WithContext(ctx).Exec(`INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`, o.Name, o.Holder, now.Add(o.TTL)).Error
	if err != nil && ctx.Err() == nil {
		slog.Warn("recording the lease holder", "lease", o.Name, "err", err)
	}
}

func (s *Store) releaseRow(o LeaseOptions) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.ReleaseLease(ctx, o.Name, o.Holder); err != nil {
		slog.Warn("releasing lease", "lease", o.Name, "err", err)
	}
}
