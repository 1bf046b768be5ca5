// Package dbtest gives tests a fresh, migrated portal database: always
// SQLite, and PostgreSQL too when PORTAL_TEST_POSTGRES is set (each test in a
// schema of its own).
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accessportal/portal/grants/database"
)

// PostgresEnv names the environment variable holding the PostgreSQL URL for tests.
const PostgresEnv = "PORTAL_TEST_POSTGRES"

// Each runs fn as a subtest once per available database ("sqlite" and, when
// PORTAL_TEST_POSTGRES is set, "postgres"), each on a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(PostgresEnv) == "" {
			t.Skip("PostgreSQL variant skipped: set " + PostgresEnv + "=postgres://… to run it")
		}
		fn(t, Postgres(t))
	})
}

// SQLite returns a migrated SQLite database in a temporary directory, and its DATABASE_URL.
func SQLite(t testing.TB) *database.DB {
	t.Helper()
	db, _ := SQLiteURL(t)
	return db
}

// SQLiteURL is SQLite and also returns the DATABASE_URL of the database.
func SQLiteURL(t testing.TB) (*database.DB, string) {
	t.Helper()
	u := "sqlite:" + filepath.Join(t.TempDir(), "portal.db")
	return open(t, u), u
}

// Postgres returns a migrated database in a new schema of the PostgreSQL
// server named by PORTAL_TEST_POSTGRES; the schema is dropped after the test.
func Postgres(t testing.TB) *database.DB {
	t.Helper()
	db, _ := PostgresURL(t)
	return db
}

// PostgresURL is Postgres and also returns the DATABASE_URL of the schema.
func PostgresURL(t testing.TB) (*database.DB, string) {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skip("PostgreSQL not configured: set " + PostgresEnv)
	}
	admin, err := database.Open(base)
	if err != nil {
		t.Fatalf("opening %s: %v", PostgresEnv, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parsing %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return open(t, u.String()), u.String()
}

func open(t testing.TB, u string) *database.DB {
	t.Helper()
	db, err := database.Open(u)
	if err != nil {
		t.Fatalf("opening test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrating test database: %v", err)
	}
	return db
}

// MarkDirectoryRead records in db that a poll has completed a read of Okta,
// for tests that write the directory snapshot themselves: until then the
// reconciler leaves synced groups as the policy has them.
func MarkDirectoryRead(t testing.TB, db *database.DB) {
	t.Helper()
	err := db.Exec("INSERT INTO sync_status (id, directory_read_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET directory_read_at = excluded.directory_read_at", time.Now().UTC()).Error
	if err != nil {
		t.Fatalf("marking the directory read: %v", err)
	}
}
