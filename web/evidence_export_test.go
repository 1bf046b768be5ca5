package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/grants/evidence"
	"github.com/accessportal/portal/web"
)

func TestEvidenceExport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		cat, err := grants.ParseCatalog("jit.hujson", []byte(jitCatalog))
		if err != nil {
			t.Fatal(err)
		}
		srv := servePortal(t, web.Options{
			DB: db, Catalog: func() *grants.Catalog { return cat }, Clock: func() time.Time { return now },
			Evidence: func(ctx context.Context, w io.Writer, since, until time.Time) (*evidence.Summary, error) {
				p := &evidence.Packet{Store: evidence.NewDBStore(db.DB), Now: func() time.Time { return now }}
				return p.Write(ctx, w, since, until)
			},
		})
		addUser(t, db, "u1", "alice@example.com", grants.StatusActive, "Portal Admins")
		addUser(t, db, "u2", "bob@example.com", grants.StatusActive, "Engineering")
		alice, bob := token(t, db, "alice@example.com", 0, now), token(t, db, "bob@example.com", 0, now)
		err = grants.AppendAudit(t.Context(), db.DB, grants.Event{At: now.Add(-time.Hour), Actor: "bob@example.com", Action: grants.ActionSelfApprovalRefused, Target: "request:1"})
		if err != nil {
			t.Fatal(err)
		}
		url := srv.URL + "/api/v1/evidence?since=2026-11-01&until=2026-11-22T00:00:00Z"

		res, body := do(t, "GET", url, alice, "")
		if res.StatusCode != 200 {
			t.Fatalf("evidence = %d %s", res.StatusCode, body)
		}
		if ct, cd := res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"); ct != "application/zip" || !strings.Contains(cd, `attachment; filename="evidence-20261101T000000Z-20261122T000000Z.zip"`) {
			t.Errorf("Content-Type %q, Content-Disposition %q", ct, cd)
		}
		z, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
		if err != nil {
			t.Fatalf("not a zip: %v", err)
		}
		names := map[string]bool{}
		for _, f := range z.File {
			names[f.Name] = true
		}
		for _, want := range []string{evidence.ReportFile, evidence.AuditCSVFile, evidence.GrantsFile, evidence.ManifestFile} {
			if !names[want] {
				t.Errorf("packet lacks %s (has %v)", want, names)
			}
		}
		report, err := z.Open(evidence.ReportFile)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(report)
		if !strings.Contains(string(text), "1 attempt to approve one&#39;s own request refused.") {
			t.Errorf("report.html does not count the refused self-approval")
		}
		var ev grants.AuditEvent
		if err := db.Where("action = ?", "evidence.export").Take(&ev).Error; err != nil {
			t.Fatalf("export not audited: %v", err)
		}
		var details map[string]any
		json.Unmarshal([]byte(ev.Details), &details)
		if ev.Actor != "alice@example.com" || details["since"] != "2026-11-01T00:00:00Z" || details["until"] != "2026-11-22T00:00:00Z" {
			t.Errorf("audit event %+v", ev)
		}

		refused := []struct {
			name, bearer, query string
			want                int
			msg                 string
		}{
			{"not an admin", bob, "since=2026-11-01&until=2026-11-22", 403, "admins"},
			{"since equals until", alice, "since=2026-11-01&until=2026-11-01", 400, "before until"},
			{"since after until", alice, "since=2026-11-22&until=2026-11-01", 400, "before until"},
			{"no since", alice, "until=2026-11-01", 400, "since is required"},
			{"not a time", alice, "since=yesterday&until=2026-11-01", 400, "yesterday"},
			{"anonymous", "", "since=2026-11-01&until=2026-11-22", 401, ""},
		}
		for _, c := range refused {
			res, body := do(t, "GET", srv.URL+"/api/v1/evidence?"+c.query, c.bearer, "")
			if res.StatusCode != c.want || !strings.Contains(body, c.msg) {
				t.Errorf("%s: %d %s, want %d with %q", c.name, res.StatusCode, body, c.want, c.msg)
			}
		}
		var n int64
		db.Model(&grants.AuditEvent{}).Where("action = ?", "evidence.export").Count(&n)
		if n != 1 {
			t.Errorf("%d evidence.export events, want 1 (refusals are not exports)", n)
		}
	})
}

func TestRefusedSelfApprovalIsAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		r := e.request(t, "alice", `{"resource":"prod-db","reason":"incident 7"}`)
		e.refused(t, 403, "you cannot approve your own request", "alice", "POST", path("/api/v1/requests/%d/approve", r.ID), `{}`)
		var ev grants.AuditEvent
		if err := db.Where("action = ?", grants.ActionSelfApprovalRefused).Take(&ev).Error; err != nil {
			t.Fatalf("refused self-approval not audited: %v", err)
		}
		if ev.Actor != "alice@example.com" || ev.Target != fmt.Sprintf("request:%d", r.ID) {
			t.Errorf("audit event %+v", ev)
		}
		// Other refusals are not self-approvals.
		e.refused(t, 403, "approved by members of", "adam", "POST", path("/api/v1/requests/%d/approve", r.ID), `{}`)
		var n int64
		db.Model(&grants.AuditEvent{}).Where("action = ?", grants.ActionSelfApprovalRefused).Count(&n)
		if n != 1 {
			t.Errorf("%d refused self-approvals audited, want 1", n)
		}
		_, out := do(t, "GET", e.srv.URL+"/api/v1/audit?action="+grants.ActionSelfApprovalRefused, e.tokens["alice"], "")
		if !strings.Contains(out, grants.ActionSelfApprovalRefused) {
			t.Errorf("audit API does not list it: %s", out)
		}
	})
}
