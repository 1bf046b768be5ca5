package evidence_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestReportIsSelfContained checks that report.html loads nothing from
// elsewhere and runs nothing. With EVIDENCE_REPORT=FILE it also writes the
// report there, to look at it in a browser.
func TestReportIsSelfContained(t *testing.T) {
	db := dbtest.SQLite(t)
	seed(t, db)
	files := unzip(t, writePacket(t, db, tailnetLog()))
	report := files["report.html"]
	if out := os.Getenv("EVIDENCE_REPORT"); out != "" {
		if err := os.WriteFile(out, report, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []string{`<script`, `<link`, `<img`, `<iframe`, `(?i)\bon[a-z]+\s*=`, `(?i)(src|href)\s*=\s*"(https?:)?//`, `url\(`, `@import`} {
		if loc := regexp.MustCompile(bad).FindIndex(report); loc != nil {
			t.Errorf("report.html holds %q: %s", bad, report[max(loc[0]-40, 0):min(loc[1]+40, len(report))])
		}
	}
	if !regexp.MustCompile(`@page \{ size: A4`).Match(report) {
		t.Error("report.html does not set an A4 page")
	}
}
