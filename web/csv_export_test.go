package web_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestAuditCSVExportNeutralisesEveryCell: cells of the audit export that
// start with =, +, -, @, tab or CR get a leading ', in every column.
func TestAuditCSVExportNeutralisesEveryCell(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		for _, actor := range []string{"=HYPERLINK(\"http://evil\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"} {
			err := grants.AppendAudit(t.Context(), db.DB, grants.Event{At: e.now, Actor: actor, Action: actor, Target: actor})
			if err != nil {
				t.Fatal(err)
			}
		}
		res, body := do(t, "GET", e.srv.URL+"/api/v1/audit/export?format=csv", e.tokens["alice"], "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("export = %d %s", res.StatusCode, body)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, row := range rows[1:] {
			for i, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("row %s column %d starts with %q: %q", row[0], i, cell[0], cell)
				}
				if strings.HasPrefix(cell, "'=HYPERLINK") {
					seen++
				}
			}
		}
		if seen != 3 {
			t.Errorf("the formula is not in the export, neutralised, as actor, action and target (%d cells)", seen)
		}
	})
}
