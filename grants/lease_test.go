package grants_test

import (
	"context"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

func TestLeaseOneHolderAtATime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		take := func(holder string, at time.Time) bool {
			t.Helper()
			ok, err := grants.NewStore(db).TryLease(ctx, "loops", holder, 10*time.Second, at)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !take("a", t0) {
			t.Fatal("a could not take a free lease")
		}
		if take("b", t0.Add(5*time.Second)) {
			t.Fatal("b took a lease a holds")
		}
		if !take("a", t0.Add(5*time.Second)) {
			t.Fatal("a could not renew its lease")
		}
		if take("b", t0.Add(14*time.Second)) {
			t.Fatal("b took the renewed lease before it expired")
		}
		if !take("b", t0.Add(16*time.Second)) {
			t.Fatal("b could not take over an expired lease")
		}
		if h, _ := grants.NewStore(db).LeaseHolder(ctx, "loops", t0.Add(16*time.Second)); h != "b" {
			t.Fatalf("holder = %q, want b", h)
		}
		if err := grants.NewStore(db).ReleaseLease(ctx, "loops", "b"); err != nil {
			t.Fatal(err)
		}
		if !take("a", t0.Add(17*time.Second)) {
			t.Fatal("a could not take a released lease")
		}
	})
}
