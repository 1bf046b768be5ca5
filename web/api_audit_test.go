package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// apiAuditEvent is one entry of GET /api/v1/audit.
type apiAuditEvent struct {
	ID      int64          `json:"id"`
	At      time.Time      `json:"at"`
	Actor   string         `json:"actor"`
	Action  string         `json:"action"`
	Target  string         `json:"target"`
	Details map[string]any `json:"details"`
}

func TestAuditList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db) // each token minted is an audit event too
		r := e.request(t, "bob", `{"resource":"prod-db","reason":"INC-1"}`)
		e.now = e.now.Add(time.Minute)
		e.must(t, 200, "carol", "POST", path("/api/v1/requests/%d/approve", r.ID), `{"comment":"fine"}`, nil)

		e.refused(t, 403, "only portal admins", "bob", "GET", "/api/v1/audit", "")
		var evs []apiAuditEvent
		e.must(t, 200, "alice", "GET", "/api/v1/audit?limit=3", "", &evs)
		if len(evs) != 3 {
			t.Fatalf("limit=3 gave %d events", len(evs))
		}
		if evs[0].Action != "request.approve" || evs[1].Action != "grant.create" || evs[2].Action != "request.create" {
			t.Errorf("newest first: %+v", evs)
		}
		if evs[0].Actor != "carol@example.com" || evs[0].Target != fmt.Sprintf("request:%d", r.ID) || evs[0].Details["comment"] != "fine" ||
			!evs[0].At.Equal(e.now) {
			t.Errorf("approve event = %+v", evs[0])
		}
		if evs[2].Details["reason"] != "INC-1" || evs[2].Details["duration"] != "1h" {
			t.Errorf("create event details = %v", evs[2].Details)
		}
		// Paging back and filtering by time.
		var older []apiAuditEvent
		e.must(t, 200, "alice", "GET", path("/api/v1/audit?before=%d&limit=1", evs[2].ID), "", &older)
		if len(older) != 1 || older[0].Action != "token.create" {
			t.Errorf("before= gave %+v", older)
		}
		var recent []apiAuditEvent
		e.must(t, 200, "alice", "GET", "/api/v1/audit?since="+e.now.Format(time.RFC3339), "", &recent)
		if len(recent) != 2 || recent[0].Action != "request.approve" || recent[1].Action != "grant.create" {
			t.Errorf("since= gave %+v", recent)
		}
		// details is an object, never a string.
		_, body := e.call(t, "alice", "GET", "/api/v1/audit?limit=1", "")
		if !strings.Contains(body, `"details":{"approvals":1,`) {
			t.Errorf("details not an object: %s", body)
		}
		e.refused(t, 400, "since must be an RFC 3339 time", "alice", "GET", "/api/v1/audit?since=yesterday", "")
		e.refused(t, 400, "limit must be", "alice", "GET", "/api/v1/audit?limit=5000", "")
		e.refused(t, 400, "before must be", "alice", "GET", "/api/v1/audit?before=x", "")
	})
}

func TestAuditExport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		start := e.now
		for i := range 5 {
			e.now = start.Add(time.Duration(i) * time.Hour)
			e.request(t, "dave", fmt.Sprintf(`{"resource":"staging","reason":"r%d"}`, i))
			e.must(t, 200, "dave", "POST", path("/api/v1/requests/%d/cancel", i+1), ``, nil)
		}
		var total int64
		db.Model(&grants.AuditEvent{}).Count(&total)

		e.refused(t, 403, "only portal admins", "dave", "GET", "/api/v1/audit/export?format=csv", "")
		e.refused(t, 400, "format must be csv or json", "alice", "GET", "/api/v1/audit/export?format=xml", "")
		e.refused(t, 400, "until must be after since", "alice", "GET", "/api/v1/audit/export?since=2026-11-21T13:00:00Z&until=2026-11-21T12:00:00Z", "")
		e.refused(t, 400, "until must be an RFC 3339 time", "alice", "GET", "/api/v1/audit/export?until=soon", "")

		res, body := do(t, "GET", e.srv.URL+"/api/v1/audit/export?format=csv", e.tokens["alice"], "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="audit-`) {
			t.Fatalf("csv export = %d %v", res.StatusCode, res.Header)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rows[0], ",") != "id,at,actor,action,target,details,prev_hash,hash" {
			t.Errorf("csv header = %v", rows[0])
		}
		// Everything before the export, plus the export's own event.
		if int64(len(rows)-1) != total+1 || rows[len(rows)-1][3] != "audit.export" {
			t.Errorf("csv has %d events, want %d and the export itself last", len(rows)-1, total+1)
		}
		for i, row := range rows[1:] {
			if i > 0 && row[6] != rows[i][7] {
				t.Errorf("row %d: prev_hash does not chain to the row before", i+1)
			}
			var obj map[string]any
			if json.Unmarshal([]byte(row[5]), &obj) != nil {
				t.Errorf("row %d: details %q is not a JSON object", i+1, row[5])
			}
		}

		// JSON, one window of time: the requests of hours 1 and 2.
		u := e.srv.URL + "/api/v1/audit/export?format=json&since=" + start.Add(time.Hour).Format(time.RFC3339) + "&until=" + start.Add(3*time.Hour).Format(time.RFC3339)
		res, body = do(t, "GET", u, e.tokens["alice"], "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
			!strings.Contains(res.Header.Get("Content-Disposition"), `.json"`) {
			t.Fatalf("json export = %d %v", res.StatusCode, res.Header)
		}
		var evs []struct {
			apiAuditEvent
			PrevHash string `json:"prevHash"`
			Hash     string `json:"hash"`
		}
		if err := json.Unmarshal([]byte(body), &evs); err != nil {
			t.Fatalf("json export is not a JSON array: %v\n%s", err, body)
		}
		var got []string
		for _, ev := range evs {
			got = append(got, ev.Action+" "+ev.Target)
			if ev.Hash == "" || ev.PrevHash == "" {
				t.Errorf("event %d lacks its hashes", ev.ID)
			}
		}
		want := "request.create request:2,request.cancel request:2,request.create request:3,request.cancel request:3"
		if strings.Join(got, ",") != want {
			t.Errorf("windowed export = %v, want %s", got, want)
		}
		// An empty window is an empty array.
		res, body = do(t, "GET", e.srv.URL+"/api/v1/audit/export?since=2030-01-01T00:00:00Z", e.tokens["alice"], "")
		if res.StatusCode != 200 || strings.TrimSpace(body) != "[]" {
			t.Errorf("empty export = %d %q", res.StatusCode, body)
		}
		var exports int64
		db.Model(&grants.AuditEvent{}).Where("action = ? AND actor = ?", "audit.export", "alice@example.com").Count(&exports)
		if exports != 3 {
			t.Errorf("%d audit.export events, want 3", exports)
		}
	})
}
