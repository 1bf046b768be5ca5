package grants

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/accessportal/portal/grants/database"

	"gorm.io/gorm"
)

// AuditRecord is an audit event as the API shows it: details as a JSON
// object, not a string. The export adds the hash chain.
type AuditRecord struct {
	ID       int64           `json:"id"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Target   string          `json:"target"`
	Details  json.RawMessage `json:"details"`
	PrevHash string          `json:"prevHash,omitempty"`
	Hash     string          `json:"hash,omitempty"`
}

// Record is the event as the API shows it; withHashes adds the chain's
// hashes (exports).
func (e *AuditEvent) Record(withHashes bool) AuditRecord {
	r := AuditRecord{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target, Details: detailsObject(e.Details)}
	if withHashes {
		r.PrevHash, r.Hash = e.PrevHash, e.Hash
	}
	return r
}

// detailsObject returns stored details as a JSON object; text that is not
// one (it never should be) is wrapped so that the answer stays valid JSON.
func detailsObject(s string) json.RawMessage {
	if len(s) > 0 && s[0] == '{' && json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(map[string]string{"unparsed": s})
	return b
}

// appendAuditBatch appends events to the chain inside tx, in order, with one
// read of the chain's end and multi-row inserts: what AppendAudit does for
// one event (same lock, same details encoding, same precision), for many.
func appendAuditBatch(ctx context.Context, tx *gorm.DB, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	tx = tx.WithContext(ctx)
	if err := database.LockAuditChain(tx); err != nil {
		return err
	}
	var last AuditEvent
	prev := genesisHash
	err := tx.Order("id DESC").Limit(1).Find(&last).Error
	if err != nil {
		return fmt.Errorf("reading audit chain: %w", err)
	}
	if last.ID != 0 {
		prev = last.Hash
	}
	rows := make([]AuditEvent, len(events))
	for i, e := range events {
		details := "{}"
		if len(e.Details) > 0 {
			b, err := json.Marshal(e.Details)
			if err != nil {
				return fmt.Errorf("encoding audit details: %w", err)
			}
			details = string(b)
		}
		rows[i] = AuditEvent{
			At: e.At.UTC().Truncate(time.Microsecond), Actor: e.Actor, Action: e.Action,
			Target: e.Target, Details: details, PrevHash: prev,
		}
		rows[i].Hash = rows[i].computeHash()
		prev = rows[i].Hash
	}
	// Multi-row inserts number rows in order, so id order stays chain order.
	if err := tx.CreateInBatches(rows, 200).Error; err != nil {
		return fmt.Errorf("appending audit events: %w", err)
	}
	actors := make([]string, len(rows))
	for i, r := range rows {
		actors[i] = r.Actor
	}
	return rememberAuditActors(tx, actors...)
}

// AuditQuery selects audit events for ListAudit.
type AuditQuery struct {
	// Since keeps events at or after this time; zero keeps all.
	Since time.Time
	// Before keeps events with an id below it (paging back); 0 keeps all.
	Before int64
	// Limit caps the answer; 0 means 100, at most 1000.
	Limit int
}

// ListAudit returns audit events newest first.
func (s *Store) ListAudit(ctx context.Context, q AuditQuery) ([]AuditEvent, error) {
	db := s.db.DB
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	tx := db.WithContext(ctx).Model(&AuditEvent{})
	if !q.Since.IsZero() {
		tx = tx.Where("at >= ?", dbTime(q.Since))
	}
	if q.Before > 0 {
		tx = tx.Where("id < ?", q.Before)
	}
	out := []AuditEvent{}
	if err := tx.Order("id DESC").Limit(q.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	return out, nil
}

// Audit export formats.
const (
	AuditCSV  = "csv"
	AuditJSON = "json"
)

// AuditExport streams audit events oldest first (chain order) in batches,
// so that any number of events is exported in constant memory.
type AuditExport struct {
	// Format is AuditCSV or AuditJSON (one JSON array).
	Format string
	// Since keeps events at or after it, Until events before it; zero
	// times do not filter.
	Since, Until time.Time
	// Batch is how many events are read per query (default 1000).
	Batch int
	// Flush, when set, is called after each batch is written (to push
	// bytes to the client).
	Flush func()
}

// AuditCSVHeader is the first row of a CSV export.
var AuditCSVHeader = []string{"id", "at", "actor", "action", "target", "details", "prev_hash", "hash"}

// Write streams the export to w and returns the number of events written.
// Events appended after it starts are not included. When it fails midway
// the output is cut short (a JSON array stays unclosed, so the cut shows).
func (x AuditExport) Write(ctx context.Context, s *Store, w io.Writer) (int, error) {
	var last int64
	return streamAudit(ctx, s.db.DB, w, x.Format, x.Batch, x.Flush, func(tx *gorm.DB, batch *[]AuditEvent, limit int) error {
		tx = tx.Where("id > ?", last)
		if !x.Since.IsZero() {
			tx = tx.Where("at >= ?", dbTime(x.Since))
		}
		if !x.Until.IsZero() {
			tx = tx.Where("at < ?", dbTime(x.Until))
		}
		err := tx.Order("id").Limit(limit).Find(batch).Error
		if n := len(*batch); n > 0 {
			last = (*batch)[n-1].ID
		}
		return err
	})
}

// auditBatch reads the next batch of an export into batch (at most limit
// events) from tx, which already keeps only events that existed when the
// export started.
type auditBatch func(tx *gorm.DB, batch *[]AuditEvent, limit int) error

// streamAudit writes an export: the CSV header or the JSON array around the
// events next returns, batch after batch, flushed after each batch so that
// memory stays constant however many events there are.
func streamAudit(ctx context.Context, db *gorm.DB, w io.Writer, format string, batchSize int, onFlush func(), next auditBatch) (int, error) {
	if format != AuditCSV && format != AuditJSON {
		return 0, refuse(ErrInvalid, "format must be %q or %q", AuditCSV, AuditJSON)
	}
	if batchSize <= 0 {
		batchSize = 1000
	}
	db = db.WithContext(ctx)
	var maxID sql.NullInt64
	if err := db.Model(&AuditEvent{}).Select("MAX(id)").Scan(&maxID).Error; err != nil {
		return 0, fmt.Errorf("reading the audit log: %w", err)
	}
	x := AuditExport{Format: format}
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	flush := func() error {
		if format == AuditCSV {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if onFlush != nil {
			onFlush()
		}
		return nil
	}
	if format == AuditCSV {
		if err := cw.Write(AuditCSVHeader); err != nil {
			return 0, err
		}
	} else {
		bw.WriteString("[")
	}
	n := 0
	batch := make([]AuditEvent, 0, batchSize)
	for maxID.Valid {
		batch = batch[:0]
		if err := next(db.Where("id <= ?", maxID.Int64), &batch, batchSize); err != nil {
			return n, fmt.Errorf("reading the audit log: %w", err)
		}
		for i := range batch {
			if err := x.writeOne(bw, cw, &batch[i], n); err != nil {
				return n, err
			}
			n++
		}
		if err := flush(); err != nil {
			return n, err
		}
		if len(batch) < batchSize {
			break
		}
	}
	if format == AuditJSON {
		if n > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString("]\n")
	}
	return n, flush()
}

func (x AuditExport) writeOne(bw *bufio.Writer, cw *csv.Writer, e *AuditEvent, n int) error {
	if x.Format == AuditCSV {
		row := []string{
			strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Target,
			string(detailsObject(e.Details)), e.PrevHash, e.Hash,
		}
		for i, c := range row {
			row[i] = SafeCSVCell(c)
		}
		return cw.Write(row)
	}
	b, err := json.Marshal(e.Record(true))
	if err != nil {
		return fmt.Errorf("encoding audit event %d: %w", e.ID, err)
	}
	if n > 0 {
		bw.WriteString(",")
	}
	bw.WriteString("\n")
	_, err = bw.Write(b)
	return err
}

// SafeCSVCell keeps a spreadsheet from running a cell of an export as a
// formula: text starting with =, +, -, @, a tab or a carriage return gets a
// leading '. Every CSV the portal writes passes every cell through it.
func SafeCSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
