package grants

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
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
	// Actor, Action and Target keep events with exactly this actor
	// ("alice@example.com", "system", "okta"), action ("grant.revoke") and
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
		tx = tx.Where("actor = ?", f.Actor)
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
// Paging is by event id (keyset), never by offset, so that every page costs
// the same however deep in the log it is.
type AuditPageQuery struct {
	AuditFilter
	// Before asks for the page of events with an id below it (older);
	// After for the page of events with an id above it (newer). At most one
	// is set; neither is the newest page.
	Before, After int64
	// Limit is the page size; 0 means 50, at most 500.
	Limit int
}

// AuditPage is one page of audit events, newest first.
type AuditPage struct {
	Events []AuditEvent
	// Newer and Older say whether matching events exist above the first and
	// below the last event of the page.
	Newer, Older bool
}

// ListAuditPage returns one page of the audit log matching the filter.
func ListAuditPage(ctx context.Context, db *gorm.DB, q AuditPageQuery) (*AuditPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	tx := q.AuditFilter.apply(db.WithContext(ctx).Model(&AuditEvent{}))
	page := &AuditPage{Events: []AuditEvent{}}
	if q.After > 0 {
		// The page just above After: read upwards, then turn it round.
		if err := tx.Where("id > ?", q.After).Order("id").Limit(q.Limit + 1).Find(&page.Events).Error; err != nil {
			return nil, fmt.Errorf("reading the audit log: %w", err)
		}
		page.Newer = len(page.Events) > q.Limit
		page.Events = page.Events[:min(len(page.Events), q.Limit)]
		slices.Reverse(page.Events)
		page.Older = true
		return page, nil
	}
	if q.Before > 0 {
		tx = tx.Where("id < ?", q.Before)
		page.Newer = true
	}
	if err := tx.Order("id DESC").Limit(q.Limit + 1).Find(&page.Events).Error; err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	page.Older = len(page.Events) > q.Limit
	page.Events = page.Events[:min(len(page.Events), q.Limit)]
	return page, nil
}

// FilteredAuditExport is an AuditExport narrowed by an AuditFilter:
// events oldest first in batches, in constant memory. The hashes of each
// event are included, so that every exported event can be checked against
// the chain; a narrowed export is not a whole chain.
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
func (x FilteredAuditExport) Write(ctx context.Context, db *gorm.DB, w io.Writer) (int, error) {
	f := x.Filter
	if x.Format != AuditCSV && x.Format != AuditJSON {
		return 0, refuse(ErrInvalid, "format must be %q or %q", AuditCSV, AuditJSON)
	}
	if x.Batch <= 0 {
		x.Batch = 1000
	}
	var maxID sql.NullInt64
	if err := db.WithContext(ctx).Model(&AuditEvent{}).Select("MAX(id)").Scan(&maxID).Error; err != nil {
		return 0, fmt.Errorf("reading the audit log: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	flush := func() error {
		if x.Format == AuditCSV {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if x.Flush != nil {
			x.Flush()
		}
		return nil
	}
	if x.Format == AuditCSV {
		if err := cw.Write(AuditCSVHeader); err != nil {
			return 0, err
		}
	} else {
		bw.WriteString("[")
	}
	n := 0
	var last int64
	batch := make([]AuditEvent, 0, x.Batch)
	for maxID.Valid && last < maxID.Int64 {
		batch = batch[:0]
		tx := f.apply(db.WithContext(ctx).Where("id > ? AND id <= ?", last, maxID.Int64))
		if err := tx.Order("id").Limit(x.Batch).Find(&batch).Error; err != nil {
			return n, fmt.Errorf("reading the audit log: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		for i := range batch {
			e := &batch[i]
			if err := (AuditExport{Format: x.Format}).writeOne(bw, cw, e, n); err != nil {
				return n, err
			}
			n++
			last = e.ID
		}
		if err := flush(); err != nil {
			return n, err
		}
		if len(batch) < x.Batch {
			break
		}
	}
	if x.Format == AuditJSON {
		if n > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString("]\n")
	}
	return n, flush()
}

// AuditActions are the actions the portal records, for filter suggestions.
var AuditActions = []string{
	"audit.export",
	"catalog.replace",
	"grant.admin-grant", "grant.applied", "grant.create", "grant.expire", "grant.extend", "grant.removed", "grant.revoke",
	"offboard.confirmed", "offboard.end", "offboard.start",
	"request.approve", "request.auto-approve", "request.cancel", "request.create", "request.deny", "request.expire",
	"session.delete",
	"sync.apply", "sync.drift", "sync.hold", "sync.hold.confirm", "sync.request",
	"token.create", "token.disable", "token.revoke",
}

// NormalizeAuditActor lower-cases an actor typed into a filter: actors are
// lower-cased emails or the portal's own names ("system", "okta").
func NormalizeAuditActor(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
