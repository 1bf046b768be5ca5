package grants

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// AuditFilter narrows the audit log: the dashboard's audit page and its
// export. Empty fields do not filter.
type AuditFilter struct {
	// Actor keeps events whose actor contains it ("alice", "@example.com",
	// "system"), as the other admin pages' person filters do; Action and
	// Target keep events with exactly this action ("grant.revoke") and
	// target ("grant:12", "group:eng").
	Actor, Action, Target string
	// Since keeps events at or after it, Until events before it.
	Since, Until time.Time
}

// IsZero reports whether the filter keeps every event.
func (f AuditFilter) IsZero() bool {
	return f.Actor == "" && f.Action == "" && f.Target == "" && f.Since.IsZero() && f.Until.IsZero()
}

// apply adds the filter's conditions to a query on audit_events.
func (f AuditFilter) apply(tx *gorm.DB) *gorm.DB {
	if f.Actor != "" {
		tx = tx.Where(`actor LIKE ? ESCAPE '\'`, likeContains(f.Actor))
	}
	if f.Action != "" {
		tx = tx.Where("action = ?", f.Action)
	}
	if f.Target != "" {
		tx = tx.Where("target = ?", f.Target)
	}
	if !f.Since.IsZero() {
		tx = tx.Where("at >= ?", dbTime(f.Since))
	}
	if !f.Until.IsZero() {
		tx = tx.Where("at < ?", dbTime(f.Until))
	}
	return tx
}

// AuditPageQuery selects one page of the filtered audit log, newest first.
// Paging is by keyset, never by offset: the cursor is an event id, and a
// page holds the events just before (or after) that event in the order of
// the page, time then id. Every page, at any depth and with any one of the
// filters, is one index range (see migration 00007), so it costs the same
// at a million events.
type AuditPageQuery struct {
	AuditFilter
	// Before asks for the page of events older than the event with this id;
	// After for the page of events newer than it. At most one is set;
	// neither is the newest page.
	Before, After int64
	// Limit is the page size; 0 means 50, at most 500.
	Limit int
}

// AuditPage is one page of audit events, newest first.
type AuditPage struct {
	Events []AuditEvent
	// Newer and Older say whether matching events exist before the first
	// and after the last event of the page.
	Newer, Older bool
}

// ListAuditPage returns one page of the audit log matching the filter,
// ordered by time and then id, newest first. Events are appended in time
// order, so this is the order of the log.
func (s *Store) ListAuditPage(ctx context.Context, q AuditPageQuery) (*AuditPage, error) {
	db := s.db.DB
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	db = db.WithContext(ctx)
	tx := q.AuditFilter.apply(db.Model(&AuditEvent{}))
	page := &AuditPage{Events: []AuditEvent{}}
	newer := q.After > 0
	if cursor := max(q.Before, q.After); cursor > 0 {
		var ev AuditEvent
		err := db.Select("id", "at").Where("id = ?", cursor).Limit(1).Find(&ev).Error
		if err != nil {
			return nil, fmt.Errorf("reading audit event %d: %w", cursor, err)
		}
		if ev.ID == 0 {
			return nil, refuse(ErrInvalid, "no audit event %d", cursor)
		}
		at := dbTime(ev.At)
		if newer {
			tx = tx.Where("at >= ? AND (at > ? OR id > ?)", at, at, cursor)
		} else {
			tx = tx.Where("at <= ? AND (at < ? OR id < ?)", at, at, cursor)
		}
	}
	if newer {
		// The page just above the cursor: read upwards, then turn it round.
		if err := tx.Order("at, id").Limit(q.Limit + 1).Find(&page.Events).Error; err != nil {
			return nil, fmt.Errorf("reading the audit log: %w", err)
		}
		page.Newer = len(page.Events) > q.Limit
		page.Events = page.Events[:min(len(page.Events), q.Limit)]
		slices.Reverse(page.Events)
		page.Older = true
		return page, nil
	}
	if err := tx.Order("at DESC, id DESC").Limit(q.Limit + 1).Find(&page.Events).Error; err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	page.Newer = q.Before > 0
	page.Older = len(page.Events) > q.Limit
	page.Events = page.Events[:min(len(page.Events), q.Limit)]
	return page, nil
}

// FilteredAuditExport is AuditExport narrowed by an AuditFilter: the
// matching events oldest first (time, then id: the order of the log) in
// batches, in constant memory, each batch one index range. Each event
// carries its hashes, so that it can be checked against the chain; a
// narrowed export is not a whole chain (`portal audit verify` checks that).
type FilteredAuditExport struct {
	// Format is AuditCSV or AuditJSON (one JSON array).
	Format string
	// Filter selects the events.
	Filter AuditFilter
	// Batch is how many events are read per query (default 1000).
	Batch int
	// Flush, when set, is called after each batch is written.
	Flush func()
}

// Write streams the export to w and returns the number of events written.
// Events appended after it starts are not included.
func (x FilteredAuditExport) Write(ctx context.Context, s *Store, w io.Writer) (int, error) {
	var last *AuditEvent
	return streamAudit(ctx, s.db.DB, w, x.Format, x.Batch, x.Flush, func(tx *gorm.DB, batch *[]AuditEvent, limit int) error {
		tx = x.Filter.apply(tx)
		if last != nil {
			at := dbTime(last.At)
			tx = tx.Where("at >= ? AND (at > ? OR id > ?)", at, at, last.ID)
		}
		err := tx.Order("at, id").Limit(limit).Find(batch).Error
		if n := len(*batch); n > 0 {
			e := (*batch)[n-1]
			last = &e
		}
		return err
	})
}

// AuditActions are the actions the portal records, for filter suggestions.
var AuditActions = []string{
	"audit.export",
	"catalog.replace",
	"evidence.export",
	"grant.admin-grant", "grant.applied", "grant.create", "grant.expire", "grant.extend", "grant.removed", "grant.revoke",
	"offboard.confirmed", "offboard.end", "offboard.start",
	"request.approve", "request.auto-approve", "request.cancel", "request.create", "request.deny", "request.expire",
	ActionSelfApprovalRefused,
	"session.delete",
	"sync.apply", "sync.drift", "sync.hold", "sync.hold.confirm", "sync.request",
	"token.create", "token.disable", "token.revoke",
}

// NormalizeAuditActor lower-cases an actor typed into a filter: actors are
// lower-cased emails or the portal's own names ("system", "okta").
func NormalizeAuditActor(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
