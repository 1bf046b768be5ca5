package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestLockIsExclusiveUntilReleased: one holder at a time; a released lock
// is free at once; a released lock says it is lost.
func TestLockIsExclusiveUntilReleased(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a, ok, err := db.TryLock(ctx, "background")
		if err != nil || !ok {
			t.Fatalf("first TryLock = %v, %v", ok, err)
		}
		if err := a.Check(ctx); err != nil {
			t.Fatalf("Check of a held lock: %v", err)
		}
		if _, ok, err := db.TryLock(ctx, "background"); err != nil || ok {
			t.Fatalf("second TryLock while held = %v, %v; want false", ok, err)
		}
		other, ok, err := db.TryLock(ctx, "other")
		if err != nil || !ok {
			t.Fatalf("a lock of another name = %v, %v", ok, err)
		}
		other.Release()
		a.Release()
		if err := a.Check(ctx); !errors.Is(err, database.ErrLockLost) {
			t.Fatalf("Check after Release = %v, want ErrLockLost", err)
		}
		b, ok, err := db.TryLock(ctx, "background")
		if err != nil || !ok {
			t.Fatalf("TryLock after Release = %v, %v", ok, err)
		}
		b.Release()
	})
}
