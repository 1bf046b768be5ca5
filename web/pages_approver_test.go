package web_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// previewPolicyText references group:jit-prod-db on lines 5 and 11, and a
// longer group name that merely starts the same on lines 6 and 12.
const previewPolicyText = `// Tailnet policy of example.com
{
	"groups": {
		"group:eng": ["alice@example.com"],
		"group:jit-prod-db": [],
		"group:jit-prod-db-admins": ["carol@example.com"],
	},
	"acls": [
		{"action": "accept", "src": ["group:eng"], "dst": ["tag:staging:*"]},
		// Just-in-time <b>database</b> access.
		{"action": "accept", "src": ["group:jit-prod-db"], "dst": ["tag:prod-db:5432"]},
		{"action": "accept", "src": ["group:jit-prod-db-admins"], "dst": ["tag:prod-db:22"]},
	],
	"ssh": [],
}
`

func TestInboxAndDecisions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, true)
		pp.setPolicy(previewPolicyText, nil)
		earlier := fileRequest(t, pp, "bob", "staging", 0, "earlier work")
		approve(t, pp, "adam", earlier.ID)
		approve(t, pp, "ada", earlier.ID)
		r := fileRequest(t, pp, "bob", "prod-db", 2*time.Hour, scriptReason)
		own := fileRequest(t, pp, "alice", "staging", 0, "alice's own")

		inbox := pp.get(t, "carol", "/approvals")
		inbox.must(t, 200, "Requests for prod-db that wait", idPath(`<article class="card decide" id="request-%d"`, r.ID),
			"<strong>prod-db</strong> for 2h", "<strong>User u3</strong> &lt;bob@example.com&gt;", "Okta groups: Engineering",
			escapedScript, "Holds now: staging", idPath(`<a href="/requests/%d">#%d</a> staging for 1h`, earlier.ID, earlier.ID), "earlier work",
			"Approvals: 0 of 1", "bob@example.com joins <code>group:jit-prod-db</code> until the grant ends.",
			"The 2 line(s) of the current policy file that reference <code>group:jit-prod-db</code>",
			`<span class="line ref"><span class="ln">5</span>		&#34;group:jit-prod-db&#34;: [],</span>`,
			`<span class="line"><span class="ln">6</span>`,
			`<span class="ln">10</span>		// Just-in-time &lt;b&gt;database&lt;/b&gt; access.</span>`,
			`<span class="line ref"><span class="ln">11</span>`, `<span class="line"><span class="ln">13</span>`, `<span class="gap">⋮</span>`,
			idPath(`action="/requests/%d/approve"`, r.ID), idPath(`action="/requests/%d/deny"`, r.ID), `name="next" value="/approvals"`)
		inbox.mustNot(t, "No rule of the current policy", "<script>alert", "<b>database", `<span class="ln">1</span>`, `<span class="ln">8</span>`, `<span class="ln">14</span>`,
			idPath(`id="request-%d"`, own.ID), "alice&#39;s own")
		if n := inbox.count(`class="line ref"`); n != 2 {
			t.Errorf("%d lines marked as referencing the group, want 2 (not group:jit-prod-db-admins)", n)
		}

		// Nobody sees their own request in their inbox, nor decides it.
		pp.get(t, "alice", "/approvals").must(t, 200, "Requests for staging that wait", "Nothing waits for your decision")
		pp.post(t, "alice", idPath("/requests/%d/approve", own.ID), url.Values{"comment": {"me"}}).
			must(t, 403, "Refused:", "you cannot approve your own request")
		pp.get(t, "erin", "/approvals").must(t, 200, "You approve no resource")
		pp.post(t, "erin", idPath("/requests/%d/approve", r.ID), url.Values{}).must(t, 404, idPath("no request %d", r.ID))
		pp.post(t, "bob", idPath("/requests/%d/deny", r.ID), url.Values{}).must(t, 403, "you cannot deny your own request; cancel it instead")
		pp.get(t, "bob", idPath("/requests/%d", r.ID)).mustNot(t, "Your decision", "/approve\"")

		// The approver's view of the request's own page has the same card.
		pp.get(t, "carol", idPath("/requests/%d", r.ID)).must(t, 200, "Your decision", "Okta groups: Engineering",
			"The 2 line(s) of the current policy file", idPath(`name="next" value="/requests/%d"`, r.ID))

		// carol approves from the inbox and goes back to it.
		wakes := pp.wakes
		p := pp.post(t, "carol", idPath("/requests/%d/approve", r.ID), url.Values{"comment": {"<i>ok</i>"}, "next": {"/approvals"}})
		if p.code != http.StatusSeeOther || p.location != "/approvals" {
			t.Fatalf("approve = %d → %q: %s", p.code, p.location, text(p.body))
		}
		if pp.wakes != wakes+1 {
			t.Error("approving did not wake the reconciler")
		}
		p = pp.follow(t, "carol", p)
		p.must(t, 200, fmt.Sprintf("You approved request #%d (bob@example.com, prod-db for 2h). The access lasts until 2026-11-21 14:00 UTC", r.ID),
			"Nothing waits for your decision")
		pp.get(t, "bob", idPath("/requests/%d", r.ID)).must(t, 200, `<span class="badge ok status">approved</span>`,
			"by carol@example.com", "<q>&lt;i&gt;ok&lt;/i&gt;</q>", "Grant #", "2h 0m left")
		pp.post(t, "carol", idPath("/requests/%d/approve", r.ID), url.Values{"comment": {"again"}}).
			must(t, 409, idPath("request %d is approved, not pending", r.ID))

		// Two approvals needed: the first approver sees that they approved.
		p = pp.follow(t, "adam", pp.post(t, "adam", idPath("/requests/%d/approve", own.ID), url.Values{"next": {"/approvals"}}))
		p.must(t, 200, idPath("Your approval of request #%d", own.ID), "it needs more approvals",
			"You approved this request; it waits for 2 approvals in all.")
		p.mustNot(t, idPath(`action="/requests/%d/approve"`, own.ID))
		pp.get(t, "ada", "/approvals").must(t, 200, "Approvals: 1 of 2 · adam@example.com", idPath(`action="/requests/%d/approve"`, own.ID))
		pp.follow(t, "ada", pp.post(t, "ada", idPath("/requests/%d/approve", own.ID), nil)).
			must(t, 200, `<span class="badge ok status">approved</span>`, idPath("You approved request #%d", own.ID))

		// A denial with a reason.
		again := fileRequest(t, pp, "bob", "prod-db", time.Hour, "more time")
		p = pp.follow(t, "sam", pp.post(t, "sam", idPath("/requests/%d/deny", again.ID), url.Values{"comment": {"not now"}}))
		p.must(t, 200, idPath("You denied request #%d", again.ID), `<span class="badge bad status">denied</span>`, "by sam@example.com", "<q>not now</q>")
		if got, _ := grants.NewStore(db).GetRequest(t.Context(), again.ID); got.Status != grants.RequestDenied {
			t.Errorf("denied request is %s", got.Status)
		}
	})
}

func TestInboxPreviewWithoutPolicy(t *testing.T) {
	db := dbtest.SQLite(t)
	pp := newPagesPortal(t, db, true)
	r := fileRequest(t, pp, "bob", "prod-db", 0, "x")

	pp.setPolicy("", errors.New("tailnet API unreachable"))
	pp.get(t, "carol", "/approvals").must(t, 200, "The current tailnet policy could not be read (tailnet API unreachable)",
		idPath(`action="/requests/%d/approve"`, r.ID))
	pp.setPolicy(`{"acls": [{"action": "accept", "src": ["group:other"], "dst": ["*:*"]}]}`, nil)
	pp.get(t, "carol", "/approvals").must(t, 200, "No line of the current policy references <code>group:jit-prod-db</code>")
	// Defined, even tested, but named by no rule: the grant gives nothing.
	pp.setPolicy(`{"groups": {"group:jit-prod-db": []}, "acls": [{"action": "accept", "src": ["group:other"], "dst": ["*:*"]}], "tests": [{"src": "group:jit-prod-db", "accept": ["tag:x:22"]}]}`, nil)
	pp.get(t, "carol", "/approvals").must(t, 200, "No rule of the current policy names <code>group:jit-prod-db</code>")

	none := newPagesPortal(t, dbtest.SQLite(t), false)
	fileRequest(t, none, "bob", "prod-db", 0, "x")
	none.get(t, "carol", "/approvals").must(t, 200, "The portal has no connection to the tailnet here")
}

func TestInboxPaginates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, true)
		pp.setPolicy(previewPolicyText, nil)
		for i := range 60 {
			r := grants.Request{Resource: "prod-db", Requester: fmt.Sprintf("person%02d@example.com", i), DurationSeconds: 3600,
				Reason: "batch", Status: grants.RequestPending, CreatedAt: pp.now.Add(time.Duration(i-60) * time.Minute)}
			if err := db.Create(&r).Error; err != nil {
				t.Fatal(err)
			}
		}
		// Requests for a resource carol does not approve never show.
		fileRequest(t, pp, "erin", "staging", 0, "")
		article := regexp.MustCompile(`<article class="card decide" id="request-(\d+)"`)
		p := pp.get(t, "carol", "/approvals")
		p.must(t, 200, "person59@example.com", "not in the Okta directory", `<a href="/approvals?before=11" rel="next">Older`)
		if n := len(article.FindAllString(p.body, -1)); n != 50 {
			t.Errorf("first inbox page has %d requests, want 50", n)
		}
		p = pp.get(t, "carol", "/approvals?before=11")
		p.must(t, 200, "person00@example.com", `<a href="/approvals">« Newest</a>`, `name="next" value="/approvals?before=11"`)
		p.mustNot(t, `rel="next"`, "person10@example.com")
		if n := len(article.FindAllString(p.body, -1)); n != 10 {
			t.Errorf("second inbox page has %d requests, want 10", n)
		}
		if strings.Contains(p.body, "erin@example.com") {
			t.Error("carol's inbox shows a staging request")
		}
	})
}
