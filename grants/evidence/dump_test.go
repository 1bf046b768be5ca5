package evidence_test

import (
	"os"
	"testing"

	"github.com/accessportal/portal/grants/database/dbtest"
)

func TestDumpReport(t *testing.T) {
	out := os.Getenv("EVIDENCE_DUMP")
	if out == "" {
		t.Skip()
	}
	db := dbtest.SQLite(t)
	seed(t, db)
	files := unzip(t, writePacket(t, db, tailnetLog()))
	os.WriteFile(out, files["report.html"], 0o644)
}
