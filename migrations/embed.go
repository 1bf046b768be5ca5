// Package migrations holds the versioned SQL schema of the portal, one
// directory per database dialect, embedded into the binary and applied with
// goose.
package migrations

import "embed"

// SQLite holds the migrations for SQLite, in the directory "sqlite".
//
//go:embed sqlite/*.sql
var SQLite embed.FS

// Postgres holds the migrations for PostgreSQL, in the directory "postgres".
//
//go:embed postgres/*.sql
var Postgres embed.FS
