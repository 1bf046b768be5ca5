package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

func TestResources(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)

		r := ok(t, p.as(alice), "resources")
		lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("want a header and two resources:\n%s", r.stdout)
		}
		wantRows := []string{
			`^NAME +GROUP +DEFAULT +MAX +REASON +ELIGIBLE +YOU MAY +DESCRIPTION$`,
			`^prod-db +group:jit-prod-db +1h +4h +required +Engineering +yes +Production Aurora Postgres$`,
			`^staging +group:jit-staging +1h +8h +optional +anyone +yes +Staging cluster$`,
		}
		for i, want := range wantRows {
			if !regexp.MustCompile(want).MatchString(lines[i]) {
				t.Errorf("line %d = %q, want %s", i, lines[i], want)
			}
		}
		// The columns are aligned: every row starts its GROUP at the same place.
		col := strings.Index(lines[0], "GROUP")
		for _, l := range lines[1:] {
			if !strings.HasPrefix(l[col:], "group:") {
				t.Errorf("columns not aligned:\n%s", r.stdout)
			}
		}

		// mallory is in no group: prod-db is not for her.
		r = ok(t, p.as(mallory), "resources")
		if !regexp.MustCompile(`(?m)^prod-db .* no +Production`).MatchString(r.stdout) {
			t.Errorf("mallory's resources should say she may not request prod-db:\n%s", r.stdout)
		}

		var list []struct {
			Name            string   `json:"name"`
			Description     string   `json:"description"`
			Group           string   `json:"group"`
			MaxDuration     string   `json:"maxDuration"`
			DefaultDuration string   `json:"defaultDuration"`
			RequireReason   bool     `json:"requireReason"`
			Eligible        []string `json:"eligible"`
		}
		okJSON(t, p.as(alice), &list, "resources")
		if len(list) != 2 || list[0].Name != "prod-db" || list[0].Group != "group:jit-prod-db" || !list[0].RequireReason ||
			list[0].MaxDuration != "4h" || strings.Join(list[0].Eligible, ",") != "Engineering" || list[1].Name != "staging" {
			t.Errorf("resources --json = %+v", list)
		}
	})
}
