package grants

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/accessportal/portal/grants/database"
)

// auditKey is PORTAL_AUDIT_KEY when the process uses one: every event is
// then hashed with HMAC-SHA256 under it (AuditEvent.ChainHash), so that
// write access to the database alone cannot rewrite the chain.
var auditKey atomic.Pointer[[]byte]

func currentAuditKey() []byte {
	if k := auditKey.Load(); k != nil {
		return *k
	}
	return nil
}

// Audit chain modes, as `portal audit verify` and the checkpoints name them.
const (
	AuditChainKeyed = "keyed (HMAC-SHA256 under PORTAL_AUDIT_KEY)"
	AuditChainPlain = "plain (SHA-256; set PORTAL_AUDIT_KEY for a keyed chain)"
)

// AuditChainMode says which chain this process writes and verifies.
func AuditChainMode() string {
	if len(currentAuditKey()) > 0 {
		return AuditChainKeyed
	}
	return AuditChainPlain
}

// SetAuditKey makes this process write and verify the audit chain keyed
// by key (nil: the plain chain). Prefer UseAuditKey, which also checks that
// the chain in the database is keyed by it.
func SetAuditKey(key []byte) {
	k := append([]byte(nil), key...)
	auditKey.Store(&k)
}

// ErrAuditChainNotKeyed means PORTAL_AUDIT_KEY is set but the chain's head
// is not hashed under it.
var ErrAuditChainNotKeyed = errors.New("the audit chain is not keyed by PORTAL_AUDIT_KEY; if it was written before the key was set, run `portal audit rekey` once (it checks the plain chain first), else the key is wrong or the chain was rewritten")

// UseAuditKey makes this process write and verify the audit chain keyed by
// key, after checking that the chain's head is hashed under it (or that
// the log is empty): events are never appended keyed to a plain chain, and
// a chain rewritten as plain is never silently accepted.
func (s *Store) UseAuditKey(ctx context.Context, key []byte) error {
	if len(key) == 0 {
		return nil
	}
	var head AuditEvent
	err := s.db.WithContext(ctx).Order("id DESC").Limit(1).Take(&head).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
	case err != nil:
		return fmt.Errorf("reading the audit chain's head: %w", err)
	case head.ChainHash(key) != head.Hash:
		return fmt.Errorf("audit event %d: %w", head.ID, ErrAuditChainNotKeyed)
	}
	SetAuditKey(key)
	return nil
}

// RekeyAudit turns the plain chain into the chain keyed by key: it checks
// the plain chain end to end and, when intact, re-hashes every event under
// the key, under the chain's lock. It returns how many events it re-hashed.
func (s *Store) RekeyAudit(ctx context.Context, key []byte) (int, error) {
	if len(key) == 0 {
		return 0, errors.New("re-keying the audit chain: PORTAL_AUDIT_KEY is not set")
	}
	n := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := database.LockAuditChain(tx); err != nil {
			return err
		}
		if _, err := verifyAuditWith(ctx, tx, nil); err != nil {
			return fmt.Errorf("re-keying the audit chain: the plain chain is not intact: %w", err)
		}
		var err error
		n, err = rekeyAudit(tx, key)
		return err
	})
	if err != nil {
		return 0, err
	}
	SetAuditKey(key)
	slog.InfoContext(ctx, "audit chain re-hashed under PORTAL_AUDIT_KEY", "events", n)
	return n, nil
}

// rekeyAudit rewrites every event's links and hash as the chain keyed by key.
func rekeyAudit(tx *gorm.DB, key []byte) (int, error) {
	prev, lastID, n := genesisHash, int64(0), 0
	for {
		var batch []AuditEvent
		if err := tx.Where("id > ?", lastID).Order("id").Limit(1000).Find(&batch).Error; err != nil {
			return n, fmt.Errorf("reading the audit chain: %w", err)
		}
		if len(batch) == 0 {
			return n, nil
		}
		for i := range batch {
			e := &batch[i]
			e.PrevHash = prev
			e.Hash = e.ChainHash(key)
			if err := tx.Model(&AuditEvent{}).Where("id = ?", e.ID).Updates(map[string]any{"prev_hash": e.PrevHash, "hash": e.Hash}).Error; err != nil {
				return n, fmt.Errorf("re-hashing audit event %d: %w", e.ID, err)
			}
			prev, lastID = e.Hash, e.ID
			n++
		}
	}
}

// AuditHead returns the newest audit event's id and hash (0 and the
// genesis hash when the log is empty).
func (s *Store) AuditHead(ctx context.Context) (int64, string, error) {
	var head AuditEvent
	err := s.db.WithContext(ctx).Select("id", "hash").Order("id DESC").Limit(1).Take(&head).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, genesisHash, nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("reading the audit chain's head: %w", err)
	}
	return head.ID, head.Hash, nil
}

// LogAuditCheckpoints logs the audit chain's head now and every interval
// until ctx ends: a checkpoint that a log collector (a SIEM) keeps outside
// the database, so that a chain rewritten later no longer matches it.
func (s *Store) LogAuditCheckpoints(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if id, hash, err := s.AuditHead(ctx); err != nil {
			if ctx.Err() == nil {
				slog.WarnContext(ctx, "audit chain checkpoint", "err", err)
			}
		} else {
			slog.InfoContext(ctx, "audit chain checkpoint", "event", id, "hash", hash, "chain", AuditChainMode())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
