package grants_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// appendFilterEvents appends n events an hour apart from start: even ones
// by bob (request.create), odd ones by the system (grant.expire), targets
// grant:0 to grant:4.
func appendFilterEvents(t *testing.T, db *database.DB, start time.Time, n int) {
	t.Helper()
	for i := range n {
		actor, action := "system", "grant.expire"
		if i%2 == 0 {
			actor, action = "bob@example.com", "request.create"
		}
		err := grants.AppendAudit(t.Context(), db.DB, grants.Event{At: start.Add(time.Duration(i) * time.Hour), Actor: actor, Action: action,
			Target: fmt.Sprintf("grant:%d", i%5), Details: map[string]any{"i": i}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func eventIDs(events []grants.AuditEvent) []int64 {
	ids := make([]int64, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

func TestListAuditPageFiltersAndPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		appendFilterEvents(t, db, start, 100)
		ctx := t.Context()

		cases := []struct {
			name string
			f    grants.AuditFilter
			want int
		}{
			{"everything", grants.AuditFilter{}, 100},
			{"actor", grants.AuditFilter{Actor: "bob@example.com"}, 50},
			{"action", grants.AuditFilter{Action: "grant.expire"}, 50},
			{"target", grants.AuditFilter{Target: "grant:3"}, 20},
			{"actor and target", grants.AuditFilter{Actor: "system", Target: "grant:3"}, 10},
			{"since", grants.AuditFilter{Since: start.Add(90 * time.Hour)}, 10},
			{"until", grants.AuditFilter{Until: start.Add(10 * time.Hour)}, 10},
			{"range and action", grants.AuditFilter{Action: "request.create", Since: start.Add(20 * time.Hour), Until: start.Add(40 * time.Hour)}, 10},
			{"nobody", grants.AuditFilter{Actor: "mallory@example.com"}, 0},
		}
		for _, c := range cases {
			// Walk older in pages of 7, then check each event once,
			// newest first, matching the filter.
			var got []grants.AuditEvent
			q := grants.AuditPageQuery{AuditFilter: c.f, Limit: 7}
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatalf("%s: paging does not end", c.name)
				}
				page, err := grants.NewStore(db).ListAuditPage(ctx, q)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if pages > 0 != page.Newer {
					t.Errorf("%s: page %d says newer=%v", c.name, pages, page.Newer)
				}
				got = append(got, page.Events...)
				if !page.Older {
					break
				}
				q.Before = page.Events[len(page.Events)-1].ID
			}
			if len(got) != c.want {
				t.Errorf("%s: %d events, want %d", c.name, len(got), c.want)
			}
			for i, e := range got {
				if i > 0 && e.ID >= got[i-1].ID {
					t.Errorf("%s: not newest first at %d: %v", c.name, i, eventIDs(got))
					break
				}
				if (c.f.Actor != "" && e.Actor != c.f.Actor) || (c.f.Action != "" && e.Action != c.f.Action) || (c.f.Target != "" && e.Target != c.f.Target) ||
					(!c.f.Since.IsZero() && e.At.Before(c.f.Since)) || (!c.f.Until.IsZero() && !e.At.Before(c.f.Until)) {
					t.Errorf("%s: event %d (%s %s %s %s) does not match", c.name, e.ID, e.At, e.Actor, e.Action, e.Target)
				}
			}
		}

		// Back to newer: the page after the second page is the first.
		first, _ := grants.NewStore(db).ListAuditPage(ctx, grants.AuditPageQuery{Limit: 10})
		second, _ := grants.NewStore(db).ListAuditPage(ctx, grants.AuditPageQuery{Before: first.Events[9].ID, Limit: 10})
		back, err := grants.NewStore(db).ListAuditPage(ctx, grants.AuditPageQuery{After: second.Events[0].ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(eventIDs(back.Events)) != fmt.Sprint(eventIDs(first.Events)) || back.Newer || !back.Older {
			t.Errorf("newer page = %v (newer %v, older %v), want %v", eventIDs(back.Events), back.Newer, back.Older, eventIDs(first.Events))
		}
		var refused *grants.Refusal
		if _, err := grants.NewStore(db).ListAuditPage(ctx, grants.AuditPageQuery{Before: 99999}); !errors.As(err, &refused) || !errors.Is(err, grants.ErrInvalid) {
			t.Errorf("unknown cursor: %v", err)
		}
	})
}

func TestListAuditPageKeepsEventsOfTheSameMoment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		at := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		for i := range 9 {
			grants.AppendAudit(t.Context(), db.DB, grants.Event{At: at, Actor: "system", Action: "grant.expire", Target: fmt.Sprintf("grant:%d", i)})
		}
		var all []int64
		q := grants.AuditPageQuery{Limit: 4}
		for {
			page, err := grants.NewStore(db).ListAuditPage(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, eventIDs(page.Events)...)
			if !page.Older {
				break
			}
			q.Before = page.Events[len(page.Events)-1].ID
		}
		if fmt.Sprint(all) != "[9 8 7 6 5 4 3 2 1]" {
			t.Errorf("events at one moment paged as %v", all)
		}
	})
}

func TestFilteredAuditExport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		appendFilterEvents(t, db, start, 100)
		f := grants.AuditFilter{Actor: "bob@example.com", Since: start.Add(10 * time.Hour), Until: start.Add(70 * time.Hour)}

		var buf bytes.Buffer
		flushes := 0
		n, err := grants.FilteredAuditExport{Format: grants.AuditCSV, Filter: f, Batch: 7, Flush: func() { flushes++ }}.Write(t.Context(), grants.NewStore(db), &buf)
		if err != nil || n != 30 {
			t.Fatalf("CSV export: %d events, %v", n, err)
		}
		if flushes != 6 { // 4 full batches, the last partial one, the end
			t.Errorf("%d flushes, want 6", flushes)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(rows) != 31 {
			t.Fatalf("CSV: %d rows, %v", len(rows), err)
		}
		stored := map[string]grants.AuditEvent{}
		var events []grants.AuditEvent
		db.Find(&events)
		for _, e := range events {
			stored[fmt.Sprint(e.ID)] = e
		}
		prev := ""
		for _, r := range rows[1:] {
			e := stored[r[0]]
			if r[2] != "bob@example.com" || r[7] != e.Hash || r[6] != e.PrevHash || r[1] <= prev {
				t.Errorf("exported row %v (stored %+v)", r, e)
			}
			prev = r[1]
		}

		buf.Reset()
		n, err = grants.FilteredAuditExport{Format: grants.AuditJSON, Filter: grants.AuditFilter{Target: "grant:2"}, Batch: 3}.Write(t.Context(), grants.NewStore(db), &buf)
		var out []grants.AuditRecord
		if jerr := json.Unmarshal(buf.Bytes(), &out); err != nil || jerr != nil || n != 20 || len(out) != 20 {
			t.Fatalf("JSON export: %d events, %v, %v", n, err, jerr)
		}
		for i, r := range out {
			if r.Target != "grant:2" || r.Hash == "" || (i > 0 && r.ID <= out[i-1].ID) {
				t.Errorf("JSON export record %d: %+v", i, r)
			}
		}
		buf.Reset()
		if n, err := (grants.FilteredAuditExport{Format: grants.AuditJSON, Filter: grants.AuditFilter{Actor: "nobody"}}).Write(t.Context(), grants.NewStore(db), &buf); err != nil || n != 0 || buf.String() != "[]\n" {
			t.Errorf("empty export = %d %v %q", n, err, buf.String())
		}
		if _, err := (grants.FilteredAuditExport{Format: "xml"}).Write(t.Context(), grants.NewStore(db), &buf); !errors.Is(err, grants.ErrInvalid) {
			t.Errorf("format xml: %v", err)
		}
	})
}
