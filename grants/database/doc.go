// Package database opens the portal's database (SQLite or PostgreSQL) with
// gorm and applies the embedded migrations.
//
// It owns the connection, the embedded migrations, PostgreSQL
// notifications between replicas and the advisory lock keys
// (AuditChainLock). It must not import grants or any other package of the
// portal but migrations.
package database
