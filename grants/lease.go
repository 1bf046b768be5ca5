package grants

import (
	"context"
	"fmt"
	"log/slog"
	"time"
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
	TTL    time.Duration // how long a dead holder keeps the lease
	Clock  func() time.Time
	// OnChange, when set, is told whether this process holds the lease.
	OnChange func(held bool)
}

// RunUnderLease runs fn whenever this process holds the lease: it tries every
// TTL/3, renews at the same pace while fn runs, cancels fn's context when a
// renewal fails, and releases the lease when ctx ends.
func (s *Store) RunUnderLease(ctx context.Context, o LeaseOptions, fn func(ctx context.Context)) {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	every := o.TTL / 3
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		ok, err := s.TryLease(ctx, o.Name, o.Holder, o.TTL, o.Clock())
		if err != nil && ctx.Err() == nil {
			slog.Warn("lease unavailable", "lease", o.Name, "err", err)
		}
		if ok {
			slog.Info("lease acquired", "lease", o.Name, "holder", o.Holder)
			if o.OnChange != nil {
				o.OnChange(true)
			}
			s.held(ctx, o, every, fn)
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

// held runs fn while renewing the lease; it returns when fn returns, the
// lease is lost, or ctx ends (then the lease is released).
func (s *Store) held(ctx context.Context, o LeaseOptions, every time.Duration, fn func(ctx context.Context)) {
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(fctx)
	}()
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			cancel()
			s.release(o)
			return
		case <-ctx.Done():
			<-done
			cancel()
			s.release(o)
			return
		case <-ticker.C:
			ok, err := s.TryLease(fctx, o.Name, o.Holder, o.TTL, o.Clock())
			if err != nil || !ok {
				slog.Warn("lease lost", "lease", o.Name, "err", err)
				cancel()
				<-done
				return
			}
		}
	}
}

func (s *Store) release(o LeaseOptions) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.ReleaseLease(ctx, o.Name, o.Holder); err != nil {
		slog.Warn("releasing lease", "lease", o.Name, "err", err)
	}
}
