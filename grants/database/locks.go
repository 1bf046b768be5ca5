package database

import (
	"fmt"

	"gorm.io/gorm"
)

// AuditChainLock is the PostgreSQL transaction advisory lock key that
// serialises appends to the audit log's hash chain. Every audited writer
// takes it first, so that all of them lock in the same order (audit chain,
// then rows) and cannot deadlock.
const AuditChainLock int64 = 7426151

// LockAuditChain takes AuditChainLock inside tx on PostgreSQL (transaction
// advisory locks are re-entrant and end with the transaction). On SQLite it
// does nothing: transactions begin IMMEDIATE, one writer at a time.
func LockAuditChain(tx *gorm.DB) error {
	if tx.Dialector.Name() != string(Postgres) {
		return nil
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", AuditChainLock).Error; err != nil {
		return fmt.Errorf("locking audit log: %w", err)
	}
	return nil
}
