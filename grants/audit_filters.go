package grants

import (
	"cmp"
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

// apply adds the filter's conditions to a query on audit_events. actors
// are the actors the actor filter matches, when they are few
// (matchAuditActors): the events of those actors are index ranges, where
// "contains" would read the whole log for a rare actor.
func (f AuditFilter) apply(tx *gorm.DB, actors auditActors) *gorm.DB {
	switch {
	case f.Actor == "":
	case actors.Few:
		tx = tx.Where("actor IN ?", actors.Names)
	default:
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
// filters, is one index range (see migration 00007) or, for an actor
// filter matching a few actors, one per actor (migration 00017), so it
// costs the same at ten million events.
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
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	db := s.db.WithContext(ctx)
	keyset, err := auditKeyset(db, q)
	if err != nil {
		return nil, err
	}
	parts, err := s.auditParts(ctx, q.AuditFilter)
	if err != nil {
		return nil, err
	}
	// The page just above the cursor is read upwards, then turned round.
	newer := q.After > 0
	order, cmp := "at DESC, id DESC", newestFirst
	if newer {
		order, cmp = "at, id", oldestFirst
	}
	events := []AuditEvent{}
	for _, actors := range parts {
		var rows []AuditEvent
		tx := keyset(q.AuditFilter.apply(db.Model(&AuditEvent{}), actors))
		if err := tx.Order(order).Limit(q.Limit + 1).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("reading the audit log: %w", err)
		}
		events = append(events, rows...)
	}
	if len(parts) > 1 {
		slices.SortFunc(events, cmp)
		events = events[:min(len(events), q.Limit+1)]
	}
	page := &AuditPage{Events: events[:min(len(events), q.Limit)]}
	if newer {
		page.Newer = len(events) > q.Limit
		slices.Reverse(page.Events)
		page.Older = true
		return page, nil
	}
	page.Newer = q.Before > 0
	page.Older = len(events) > q.Limit
	return page, nil
}

// auditKeyset returns what keeps a query to the events beyond the page
// query's cursor, in the order of the log; nothing without a cursor.
func auditKeyset(db *gorm.DB, q AuditPageQuery) (func(*gorm.DB) *gorm.DB, error) {
	cursor := max(q.Before, q.After)
	if cursor == 0 {
		return func(tx *gorm.DB) *gorm.DB { return tx }, nil
	}
	var ev AuditEvent
	if err := db.Select("id", "at").Where("id = ?", cursor).Limit(1).Find(&ev).Error; err != nil {
		return nil, fmt.Errorf("reading audit event %d: %w", cursor, err)
	}
	if ev.ID == 0 {
		return nil, refuse(ErrInvalid, "no audit event %d", cursor)
	}
	at := dbTime(ev.At)
	if q.After > 0 {
		return func(tx *gorm.DB) *gorm.DB { return tx.Where("at >= ? AND (at > ? OR id > ?)", at, at, cursor) }, nil
	}
	return func(tx *gorm.DB) *gorm.DB { return tx.Where("at <= ? AND (at < ? OR id < ?)", at, at, cursor) }, nil
}

// auditParts splits a filter into the queries that read a page of it: one,
// or one per actor when an actor filter matches a few (none when it matches
// nobody).
func (s *Store) auditParts(ctx context.Context, f AuditFilter) ([]auditActors, error) {
	if f.Actor == "" {
		return []auditActors{{}}, nil
	}
	actors, err := s.matchAuditActors(ctx, f.Actor)
	if err != nil || !actors.Few {
		return []auditActors{actors}, err
	}
	parts := make([]auditActors, len(actors.Names))
	for i, name := range actors.Names {
		parts[i] = auditActors{Names: []string{name}, Few: true}
	}
	return parts, nil
}

// oldestFirst and newestFirst order events as the log does: by time, then id.
func oldestFirst(a, b AuditEvent) int {
	return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
}

func newestFirst(a, b AuditEvent) int { return oldestFirst(b, a) }

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
	var actors auditActors
	if x.Filter.Actor != "" {
		var err error
		if actors, err = s.matchAuditActors(ctx, x.Filter.Actor); err != nil {
			return 0, err
		}
	}
	var last *AuditEvent
	return streamAudit(ctx, s.db.DB, w, x.Format, x.Batch, x.Flush, func(tx *gorm.DB, batch *[]AuditEvent, limit int) error {
		tx = x.Filter.apply(tx, actors)
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
