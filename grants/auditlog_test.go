package grants_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// appendEvents appends n chained events, one a minute from t0.
func appendEvents(t testing.TB, db *database.DB, n int) {
	t.Helper()
	err := db.Transaction(func(tx *gorm.DB) error {
		for i := range n {
			err := grants.AppendAudit(t.Context(), tx, grants.Event{
				At: t0.Add(time.Duration(i) * time.Minute), Actor: "system", Action: "test.event", Target: fmt.Sprintf("n:%d", i),
				Details: map[string]any{"i": i, "quote": `"a,b"` + "\n"},
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAuditExportStreamsInBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		appendEvents(t, db, 250)
		for _, format := range []string{grants.AuditCSV, grants.AuditJSON} {
			var buf bytes.Buffer
			flushes := 0
			x := grants.AuditExport{Format: format, Batch: 40, Flush: func() { flushes++ }}
			n, err := x.Write(t.Context(), grants.NewStore(db), &buf)
			if err != nil || n != 250 {
				t.Fatalf("%s: wrote %d, %v", format, n, err)
			}
			if flushes != 8 { // 6 full batches, the last partial one, the end
				t.Errorf("%s: %d flushes, want one per batch and one at the end (8)", format, flushes)
			}
			var ids []int64
			if format == grants.AuditCSV {
				rows, err := csv.NewReader(&buf).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				for _, row := range rows[1:] {
					var id int64
					fmt.Sscan(row[0], &id)
					ids = append(ids, id)
					var d map[string]any
					if err := json.Unmarshal([]byte(row[5]), &d); err != nil || d["quote"] != "\"a,b\"\n" {
						t.Fatalf("csv details %q", row[5])
					}
				}
			} else {
				var recs []grants.AuditRecord
				if err := json.Unmarshal(buf.Bytes(), &recs); err != nil {
					t.Fatalf("json export: %v", err)
				}
				for _, r := range recs {
					ids = append(ids, r.ID)
				}
				if recs[0].PrevHash == "" || recs[1].PrevHash != recs[0].Hash {
					t.Errorf("hash chain not exported")
				}
			}
			for i, id := range ids {
				if id != int64(i+1) {
					t.Fatalf("%s: event %d has id %d: not in chain order", format, i, id)
				}
			}
		}
		// since is inclusive, until exclusive.
		var buf bytes.Buffer
		x := grants.AuditExport{Format: grants.AuditJSON, Since: t0.Add(10 * time.Minute), Until: t0.Add(20 * time.Minute), Batch: 3}
		if n, err := x.Write(t.Context(), grants.NewStore(db), &buf); err != nil || n != 10 {
			t.Errorf("window: %d, %v", n, err)
		}
		if _, err := (grants.AuditExport{Format: "xml"}).Write(t.Context(), grants.NewStore(db), &buf); err == nil {
			t.Error("xml accepted")
		}
	})
}

func TestListAuditNewestFirst(t *testing.T) {
	db := dbtest.SQLite(t)
	appendEvents(t, db, 30)
	evs, err := grants.NewStore(db).ListAudit(t.Context(), grants.AuditQuery{Limit: 5})
	if err != nil || len(evs) != 5 || evs[0].ID != 30 || evs[4].ID != 26 {
		t.Fatalf("newest five = %v, %v", evs, err)
	}
	evs, _ = grants.NewStore(db).ListAudit(t.Context(), grants.AuditQuery{Before: 26, Since: t0.Add(20 * time.Minute)})
	if len(evs) != 5 || evs[0].ID != 25 || evs[4].ID != 21 {
		t.Errorf("page before 26 since +20m = %d events from %d", len(evs), evs[0].ID)
	}
	rec := evs[0].Record(false)
	b, _ := json.Marshal(rec)
	if !strings.Contains(string(b), `"details":{"i":24,`) || strings.Contains(string(b), "hash") {
		t.Errorf("record = %s", b)
	}
}
