package main

import (
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

type dbDB = database.DB

// eachDatabaseURL runs fn with the DATABASE_URL of a fresh SQLite database
// and, when PORTAL_TEST_POSTGRES is set, of a fresh PostgreSQL schema.
func eachDatabaseURL(t *testing.T, fn func(t *testing.T, dbURL string)) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) { fn(t, dbURLOf(t, db)) })
}

// dbURLOf is the DATABASE_URL of a test database.
func dbURLOf(t *testing.T, db *database.DB) string {
	t.Helper()
	return db.URL
}
