package web_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

func TestHomeShowsWhatWaitsForMyDecision(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		r := fileRequest(t, pp, "bob", "prod-db", 2*time.Hour, "replication lag")
		pp.now = pp.now.Add(5 * time.Minute)
		home := pp.get(t, "carol", "/")
		home.must(t, 200, "Waiting for your decision", `<span class="badge warn count">1</span></h2>`,
			`title="1 waiting for your decision">1</span>`, idPath(`<tr id="awaiting-%d">`, r.ID), "bob@example.com", "replication lag", "5m ago")
		// The requester and people who approve nothing see no such section.
		pp.get(t, "bob", "/").mustNot(t, "Waiting for your decision", "waiting for your decision\">")
		pp.get(t, "erin", "/").mustNot(t, "Waiting for your decision")

		// The approval form offers durations with the requested one selected.
		pp.get(t, "carol", idPath("/requests/%d", r.ID)).must(t, 200,
			idPath(`<select id="approve-duration-%d" name="duration">`, r.ID), `<option value="2h" selected>`, `<option value="30m">`)
		// Approving for 30m from the page gives a 30m grant; the count goes.
		done := pp.post(t, "carol", idPath("/requests/%d/approve", r.ID), url.Values{"duration": {"30m"}, "next": {"/"}})
		pp.follow(t, "carol", done).mustNot(t, "Waiting for your decision", "waiting for your decision\">")
		got, err := grants.NewStore(db).GetRequest(t.Context(), r.ID)
		if err != nil || got.Grant == nil || got.Grant.ExpiresAt.Sub(got.Grant.StartsAt) != 30*time.Minute {
			t.Fatalf("after approving for 30m: %+v, %v", got, err)
		}
		// Over the maximum from a crafted form: refused on the request's page.
		r2 := fileRequest(t, pp, "dave", "staging", time.Hour, "")
		pp.post(t, "ada", idPath("/requests/%d/approve", r2.ID), url.Values{"duration": {"9h"}}).must(t, 400, "longer than the maximum 8h")
	})
}

// The navigation counts the requests waiting for a decision up to 99, then
// says "99+" without counting them all.
func TestNavigationCountsWhatWaitsUpTo99(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		file := func(from, to int) {
			for i := from; i < to; i++ {
				r := grants.Request{Resource: "prod-db", Requester: fmt.Sprintf("someone%03d@example.com", i), DurationSeconds: 3600,
					Reason: "load", Status: grants.RequestPending, CreatedAt: pp.now}
				if err := db.Create(&r).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
		file(0, 99)
		pp.get(t, "carol", "/tokens").must(t, 200, `title="99 waiting for your decision">99</span>`)
		file(99, 150)
		pp.get(t, "carol", "/tokens").must(t, 200, `title="more than 99 waiting for your decision">99+</span>`)
		pp.get(t, "carol", "/").must(t, 200, `<span class="badge warn count">150</span></h2>`)
	})
}
func TestAutoApprovedRequestPageNamesTheRule(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		r := fileRequest(t, pp, "dave", "prod-db", time.Hour, "paged")
		p := pp.get(t, "dave", idPath("/requests/%d", r.ID))
		p.must(t, 200, "approved at once", "autoApprove: On-Call")
		p.mustNot(t, "No decision yet")
		pp.get(t, "dave", "/requests").must(t, 200, "by autoApprove: On-Call")
		pp.get(t, "dave", idPath("/grants/%d", *r.GrantID)).must(t, 200, "auto-approval (rule <strong>autoApprove: On-Call</strong>)")
	})
}

func TestDenialShownToTheRequester(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		r := fileRequest(t, pp, "bob", "prod-db", 2*time.Hour, "look around")
		carol, err := grants.LookupPerson(t.Context(), db.DB, email("carol"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := grants.NewStore(db).DenyRequest(t.Context(), pp.catalog, r.ID, carol, "open a ticket first", pp.now); err != nil {
			t.Fatal(err)
		}
		again := `href="/resources/prod-db/request?duration=2h&amp;reason=look&#43;around"`
		pp.get(t, "bob", "/").must(t, 200, "Denied lately", "open a ticket first", again)
		pp.get(t, "bob", "/requests").must(t, 200, "open a ticket first", again)
		pp.get(t, "bob", idPath("/requests/%d", r.ID)).must(t, 200, "open a ticket first", "Request again")
		pp.get(t, "bob", "/resources/prod-db/request?duration=2h&reason=look+around").must(t, 200,
			`<option value="2h" selected>`, ">look around</textarea>")
		// A week later it leaves the home page, not the history.
		pp.now = pp.now.Add(8 * 24 * time.Hour)
		pp.get(t, "bob", "/").mustNot(t, "Denied lately")
		pp.get(t, "bob", "/requests").must(t, 200, "open a ticket first")
	})
}

func TestEndedGrantShowsWhenItEnded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		r := fileRequest(t, pp, "dave", "prod-db", 4*time.Hour, "paged")
		pp.now = pp.now.Add(25 * time.Minute)
		pp.post(t, "dave", idPath("/grants/%d/relinquish", *r.GrantID), url.Values{"reason": {"fixed"}}).must(t, 303)
		g := pp.get(t, "dave", idPath("/grants/%d", *r.GrantID))
		g.must(t, 200, `<th scope="row">Ended</th><td class="ended-at"><time datetime="2026-11-21T12:25:00Z"`, `(was to run until <time datetime="2026-11-21T16:00:00Z"`)
		home := pp.get(t, "dave", "/")
		home.must(t, 200, `<td><time datetime="2026-11-21T12:25:00Z"`)
		home.mustNot(t, `<td><time datetime="2026-11-21T16:00:00Z"`)
		pp.get(t, "dave", idPath("/requests/%d", r.ID)).must(t, 200, `ended <time datetime="2026-11-21T12:25:00Z"`)
	})
}

func TestExtendFromTheGrantPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		r := fileRequest(t, pp, "bob", "prod-db", time.Hour, "migration")
		approve(t, pp, "carol", r.ID)
		got, _ := grants.NewStore(db).GetRequest(t.Context(), r.ID)
		gid := got.Grant.ID
		pp.get(t, "bob", idPath("/grants/%d", gid)).must(t, 200, idPath(`<form method="post" action="/grants/%d/extend"`, gid), `<option value="1h" selected>`)
		// Not for others' grants, even admins'.
		pp.get(t, "alice", idPath("/grants/%d", gid)).mustNot(t, "/extend")

		pp.post(t, "bob", idPath("/grants/%d/extend", gid), url.Values{"duration": {"5h"}, "reason": {"x"}}).must(t, 400, "longer than the maximum 4h")
		done := pp.post(t, "bob", idPath("/grants/%d/extend", gid), url.Values{"duration": {"2h"}, "reason": {"runs long"}})
		pp.follow(t, "bob", done).must(t, 200, "was sent to the approvers; the access keeps running meanwhile")
		ext, _, err := grants.NewStore(db).RequestsOf(t.Context(), email("bob"), grants.RequestPending, grants.Page{Size: 5})
		if err != nil || len(ext) != 1 || ext[0].ExtendsGrantID == nil || *ext[0].ExtendsGrantID != gid || ext[0].Duration() != 2*time.Hour {
			t.Fatalf("pending extension = %+v, %v", ext, err)
		}
		pp.get(t, "sam", idPath("/requests/%d", ext[0].ID)).must(t, 200, idPath(`extends <a href="/grants/%d">grant #%d</a>`, gid, gid))
	})
}
