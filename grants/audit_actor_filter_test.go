package grants_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// The actor filter matches part of an actor, as the admin pages' other
// person filters do; LIKE's wildcards in it are taken literally.
func TestAuditActorFilterMatchesSubstrings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		appendFilterEvents(t, db, start, 10)
		for actor, want := range map[string]int{"bob": 5, "@example.com": 5, "sys": 5, "e": 10, "%": 0, "_": 0, "carol": 0} {
			page, err := grants.NewStore(db).ListAuditPage(t.Context(), grants.AuditPageQuery{AuditFilter: grants.AuditFilter{Actor: actor}})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) != want {
				t.Errorf("actor %q: %d events, want %d", actor, len(page.Events), want)
			}
		}
	})
}

// An actor filter matching a few actors reads each one's events and merges
// them; one matching many reads the log in time order. Both page the same
// events in the log's order, older and back newer.
func TestAuditActorFilterPagesFewAndManyActors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		var events []grants.Event
		for i := range 240 {
			// 40 people, user00 to user39; some events share a moment.
			events = append(events, grants.Event{At: start.Add(time.Duration(i/3) * time.Minute), Actor: fmt.Sprintf("user%02d@example.com", i*7%40),
				Action: "request.create", Target: fmt.Sprintf("request:%d", i)})
		}
		for _, e := range events {
			if err := grants.AppendAudit(t.Context(), db.DB, e); err != nil {
				t.Fatal(err)
			}
		}
		store := grants.NewStore(db)
		for _, actor := range []string{"user1", "user0", "user3", "user", "example.com", "user07@example.com", "user4"} {
			var want []int64
			for i, e := range events {
				if strings.Contains(e.Actor, actor) {
					want = append([]int64{int64(i + 1)}, want...) // newest first
				}
			}
			var got, pages []int64
			q := grants.AuditPageQuery{AuditFilter: grants.AuditFilter{Actor: actor}, Limit: 7}
			for n := 0; ; n++ {
				if n > 40 {
					t.Fatalf("actor %q: paging does not end", actor)
				}
				page, err := store.ListAuditPage(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, eventIDs(page.Events)...)
				if len(page.Events) > 0 {
					pages = append(pages, page.Events[0].ID)
				}
				if !page.Older {
					break
				}
				q.Before = page.Events[len(page.Events)-1].ID
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("actor %q: paged %v, want %v", actor, got, want)
			}
			if len(pages) < 2 {
				continue
			}
			// The page newer than the second is the first.
			second, _ := store.ListAuditPage(t.Context(), grants.AuditPageQuery{AuditFilter: grants.AuditFilter{Actor: actor}, Before: got[6], Limit: 7})
			back, err := store.ListAuditPage(t.Context(), grants.AuditPageQuery{AuditFilter: grants.AuditFilter{Actor: actor}, After: second.Events[0].ID, Limit: 7})
			if err != nil || fmt.Sprint(eventIDs(back.Events)) != fmt.Sprint(got[:7]) || back.Newer || !back.Older {
				t.Errorf("actor %q: newer page %v (newer %v, older %v, %v), want %v", actor, eventIDs(back.Events), back.Newer, back.Older, err, got[:7])
			}
		}
		// The export keeps the same events, oldest first.
		var buf bytes.Buffer
		n, err := grants.FilteredAuditExport{Format: grants.AuditJSON, Filter: grants.AuditFilter{Actor: "user1"}, Batch: 5}.Write(t.Context(), store, &buf)
		if err != nil || n != 60 {
			t.Errorf("export of user1: %d events, %v", n, err)
		}
	})
}
