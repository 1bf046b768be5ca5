package database_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

func TestMigrateIsIdempotentAndRefusesNewerSchema(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		// A table from the first migration is there.
		if err := db.Exec("INSERT INTO leases (name, holder, expires_at) VALUES ('x', 'y', CURRENT_TIMESTAMP)").Error; err != nil {
			t.Fatalf("leases table missing: %v", err)
		}
		if err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)").Error; err != nil {
			t.Fatalf("faking a newer migration: %v", err)
		}
		if err := db.Migrate(ctx); !errors.Is(err, database.ErrNewerSchema) {
			t.Fatalf("Migrate on a newer schema = %v, want ErrNewerSchema", err)
		}
	})
}

func TestConcurrentMigrateOnPostgres(t *testing.T) {
	_, u := dbtest.PostgresURL(t)
	// Two replicas starting at once on a fresh schema: both succeed.
	fresh, err := database.Open(u)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := fresh.Exec("DROP TABLE goose_db_version; DROP TABLE catalogs, sync_status, leases, audit_events, directory_memberships, directory_groups, directory_users, api_tokens, sessions").Error; err != nil {
		t.Fatalf("resetting schema: %v", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := database.Open(u)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = db.Migrate(context.Background())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, u := range []string{"mysql://x", "portal.db", "sqlite:"} {
		if _, err := database.Open(u); err == nil {
			t.Errorf("Open(%q) succeeded, want an error", u)
		}
	}
}
