package database_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

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
	// Empty the schema: every table of every migration goes.
	var tables []string
	if err := fresh.Raw("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if err := fresh.Exec("DROP TABLE IF EXISTS " + table + " CASCADE").Error; err != nil {
			t.Fatalf("resetting schema: %v", err)
		}
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

func TestPublishWakesListenersOfTheSameSchemaOnly(t *testing.T) {
	_, u := dbtest.PostgresURL(t)
	_, other := dbtest.PostgresURL(t)
	a, err := database.Open(u)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := database.Open(other)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	woken := make(chan string, 10)
	go a.Listen(ctx, func() { woken <- "a" })
	go b.Listen(ctx, func() { woken <- "b" })
	// Publish until the listener is up (LISTEN is asynchronous to us).
	deadline := time.After(10 * time.Second)
	for got := false; !got; {
		if err := a.Publish(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case w := <-woken:
			if w != "a" {
				t.Fatalf("a notification of schema a woke %s", w)
			}
			got = true
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("no wake within 10s of publishing")
		}
	}
	select {
	case w := <-woken:
		if w == "b" {
			t.Fatal("the other schema's listener was woken")
		}
	case <-time.After(300 * time.Millisecond):
	}
}

func TestInRolledBackTxSeesItsWritesAndKeepsNone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var inside int64
		err := db.InRolledBackTx(ctx, func(tx *database.DB) error {
			if err := tx.Exec("INSERT INTO leases (name, holder, expires_at) VALUES ('dry', 'run', CURRENT_TIMESTAMP)").Error; err != nil {
				return err
			}
			return tx.Table("leases").Where("name = 'dry'").Count(&inside).Error
		})
		if err != nil || inside != 1 {
			t.Fatalf("inside the transaction: %d rows, %v", inside, err)
		}
		var after int64
		if err := db.Table("leases").Where("name = 'dry'").Count(&after).Error; err != nil || after != 0 {
			t.Errorf("after the transaction: %d rows, %v", after, err)
		}
		failed := errors.New("poll failed")
		if err := db.InRolledBackTx(ctx, func(*database.DB) error { return failed }); !errors.Is(err, failed) {
			t.Errorf("InRolledBackTx = %v, want fn's error", err)
		}
	})
}
