package grants

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/accessportal/portal/grants/database"

	"gorm.io/gorm"
)

// Event is one audit event as callers describe it.
type Event struct {
	At      time.Time
	Actor   string // an email, "okta", "system", …
	Action  string // e.g. "request.create", "grant.revoke", "sync.drift"
	Target  string // e.g. "request:12", "group:eng"
	Details map[string]any
}

// AuditEvent is one stored, hash-chained audit event.
type AuditEvent struct {
	ID       int64     `gorm:"primaryKey" json:"id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Target   string    `json:"target"`
	Details  string    `json:"details"`
	PrevHash string    `json:"-"`
	Hash     string    `json:"-"`
}

// genesisHash is the previous hash of the first event.
const genesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// AppendAudit appends one event to the chain inside tx. Appends are
// serialized: on PostgreSQL by a transaction advisory lock, on SQLite by its
// single writer (transactions begin IMMEDIATE). Called outside a
// transaction, it opens one, so that the read of the chain's head and the
// insert after it are never separated, whichever path the event comes from.
func AppendAudit(ctx context.Context, tx *gorm.DB, e Event) error {
	tx = tx.WithContext(ctx)
	if !inTransaction(tx) {
		return tx.Transaction(func(tx *gorm.DB) error { return appendAudit(tx, e) })
	}
	return appendAudit(tx, e)
}

// inTransaction reports whether db runs inside a transaction.
func inTransaction(db *gorm.DB) bool {
	committer, ok := db.Statement.ConnPool.(gorm.TxCommitter)
	return ok && committer != nil
}

func appendAudit(tx *gorm.DB, e Event) error {
	if err := database.LockAuditChain(tx); err != nil {
		return err
	}
	details := "{}"
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("encoding audit details: %w", err)
		}
		details = string(b)
	}
	var last AuditEvent
	prev := genesisHash
	err := tx.Order("id DESC").Limit(1).Take(&last).Error
	switch {
	case err == nil:
		prev = last.Hash
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("reading audit chain: %w", err)
	}
	ev := AuditEvent{
		At: e.At.UTC().Truncate(time.Microsecond), Actor: e.Actor, Action: e.Action,
		Target: e.Target, Details: details, PrevHash: prev,
	}
	ev.Hash = ev.ChainHash(currentAuditKey())
	if err := tx.Create(&ev).Error; err != nil {
		return fmt.Errorf("appending audit event: %w", err)
	}
	return rememberAuditActors(tx, ev.Actor)
}

// computeHash hashes the previous hash and every field of the event.
func (e *AuditEvent) computeHash() string {
	h := sha256.New()
	for _, f := range []string{e.PrevHash, e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Target, e.Details} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ChainError names the first audit event whose hash does not match.
type ChainError struct {
	ID     int64
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit event %d: %s", e.ID, e.Reason)
}

// VerifyAudit walks the whole chain in id order, in batches, and returns the
// number of events checked, or a *ChainError for the first broken event.
func VerifyAudit(ctx context.Context, db *gorm.DB) (int, error) {
	return verifyAuditWith(ctx, db, currentAuditKey())
}

// verifyAuditWith is VerifyAudit for the chain keyed by key (plain when
// key is empty).
func verifyAuditWith(ctx context.Context, db *gorm.DB, key []byte) (int, error) {
	prev := genesisHash
	var lastID int64
	n := 0
	for {
		var batch []AuditEvent
		if err := db.WithContext(ctx).Where("id > ?", lastID).Order("id").Limit(1000).Find(&batch).Error; err != nil {
			return n, fmt.Errorf("reading audit log: %w", err)
		}
		if len(batch) == 0 {
			return n, nil
		}
		for i := range batch {
			e := &batch[i]
			if e.PrevHash != prev {
				return n, &ChainError{ID: e.ID, Reason: "previous-hash link broken (an event before it was removed or altered)"}
			}
			if e.ChainHash(key) != e.Hash {
				return n, &ChainError{ID: e.ID, Reason: "content does not match its hash (altered)"}
			}
			prev = e.Hash
			lastID = e.ID
			n++
		}
	}
}

// AppendAudit appends one event to the audit chain in a transaction of its own.
func (s *Store) AppendAudit(ctx context.Context, e Event) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return AppendAudit(ctx, tx, e) })
}

// VerifyAudit checks the audit chain and returns how many events it holds.
func (s *Store) VerifyAudit(ctx context.Context) (int, error) { return VerifyAudit(ctx, s.db.DB) }

// inAuditedTx runs fn in a transaction that first takes the audit chain's
// lock (on PostgreSQL; SQLite transactions begin IMMEDIATE, which
// serializes them anyway). Taking it first gives every audited writer the
// same lock order — audit chain, then rows — so that they cannot deadlock.
func inAuditedTx(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := database.LockAuditChain(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

func requestTarget(id int64) string { return fmt.Sprintf("request:%d", id) }

func grantTarget(id int64) string { return fmt.Sprintf("grant:%d", id) }
