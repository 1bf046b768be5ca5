package web_test

import (
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

const scriptReason = `<script>alert("pwned")</script> INC-77`

// escapedScript is scriptReason as a page must show it: text, not markup.
const escapedScript = `&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; INC-77`

func TestPagesSendAnonymousPeopleToSignIn(t *testing.T) {
	db := dbtest.SQLite(t)
	pp := newPagesPortal(t, db, false)
	for _, path := range []string{"/resources", "/resources/prod-db/request", "/requests", "/requests/1", "/approvals", "/grants/1"} {
		p := pp.get(t, "", path)
		if want := "/login?next=" + url.QueryEscape(path); p.code != http.StatusSeeOther || p.location != want {
			t.Errorf("anonymous GET %s = %d → %q, want 303 → %q", path, p.code, p.location, want)
		}
	}
	for _, path := range []string{"/resources/prod-db/request", "/requests/1/cancel", "/requests/1/approve", "/requests/1/deny", "/grants/1/relinquish"} {
		if p := pp.post(t, "", path, url.Values{}); p.code != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login?") {
			t.Errorf("anonymous POST %s = %d → %q, want a redirect to sign-in", path, p.code, p.location)
		}
	}
	if n, _ := grants.NewStore(db).ListRequests(t.Context(), grants.RequestQuery{All: true}); len(n) != 0 {
		t.Errorf("anonymous posts created %d requests", len(n))
	}
	pp.get(t, "", "/").must(t, 200, "Sign in with Okta")

	// Suspended in Okta after signing in: the session no longer counts.
	pp.get(t, "bob", "/resources").must(t, 200, "prod-db")
	if err := db.Model(&grants.DirectoryUser{}).Where("email = ?", email("bob")).Update("status", grants.StatusSuspended).Error; err != nil {
		t.Fatal(err)
	}
	if p := pp.get(t, "bob", "/resources"); p.code != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login?") {
		t.Errorf("suspended person's GET /resources = %d → %q", p.code, p.location)
	}
	if p := pp.post(t, "bob", "/resources/staging/request", url.Values{"duration": {"1h"}}); p.code != http.StatusSeeOther {
		t.Errorf("suspended person's request = %d", p.code)
	}
}

func TestCatalogPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		// bob may request both; his staging request is pending.
		r := fileRequest(t, pp, "bob", "staging", 0, "")
		p := pp.get(t, "bob", "/resources")
		p.must(t, 200, "Production Aurora Postgres", "<code>group:jit-prod-db</code>", "up to 4h (default 1h)", "a reason is required",
			"Approved by Security.", `href="/resources/prod-db/request"`, "Approved by the portal admins (2 approvers needed).",
			fmt.Sprintf(`<a href="/requests/%d">request #%d</a> waits for a decision`, r.ID, r.ID))
		p.mustNot(t, `href="/resources/staging/request"`, "Other resources")

		// erin (Finance) may not request prod-db: it is listed apart, without a link.
		p = pp.get(t, "erin", "/resources")
		p.must(t, 200, `href="/resources/staging/request"`, "Other resources", "members of Engineering")
		p.mustNot(t, `href="/resources/prod-db/request"`)

		// dave is on call: his prod-db requests are approved at once, and he holds it.
		fileRequest(t, pp, "dave", "prod-db", 0, "paged")
		pp.get(t, "dave", "/resources").must(t, 200, "Your requests are approved at once", "you have access", "1h 0m left")
	})
}

func TestRequestForm(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		form := pp.get(t, "bob", "/resources/prod-db/request")
		form.must(t, 200, "<h1>Request prod-db</h1>", "Why (required)", "required")
		options := regexp.MustCompile(`<option value="([^"]+)"( selected)?>([^<]*)</option>`).FindAllStringSubmatch(form.body, -1)
		var got []string
		for _, o := range options {
			got = append(got, o[1]+o[2])
		}
		if want := "15m,30m,1h selected,2h,4h"; strings.Join(got, ",") != want {
			t.Errorf("duration choices = %v, want %s", got, want)
		}
		if !strings.Contains(form.body, "1h (default)") || !strings.Contains(form.body, "4h (maximum)") {
			t.Errorf("choices are not labelled: %v", options)
		}
		pp.get(t, "erin", "/resources/prod-db/request").must(t, 403, "prod-db may be requested only by members of Engineering")
		pp.get(t, "bob", "/resources/nope/request").must(t, 404, `there is no resource &#34;nope&#34;`)

		// Refusals come back on the form with what was typed.
		submit := func(who, resource, duration, reason string) page {
			return pp.post(t, who, "/resources/"+resource+"/request", url.Values{"duration": {duration}, "reason": {reason}})
		}
		p := submit("bob", "prod-db", "2h", "  ")
		p.must(t, 400, "Refused:", "prod-db requires a reason", `<option value="2h" selected>`)
		p = submit("bob", "prod-db", "5h", scriptReason)
		p.must(t, 400, "duration 5h is longer than the maximum 4h for prod-db", ">"+escapedScript+"</textarea>")
		p.mustNot(t, "<script>alert")
		submit("bob", "prod-db", "banana", "x").must(t, 400, "invalid duration &#34;banana&#34;", ">x</textarea>")
		submit("erin", "prod-db", "1h", "x").must(t, 403, "may be requested only by members of Engineering")
		if n := len(requestsOf(t, db, "bob")); n != 0 {
			t.Fatalf("refused submissions stored %d requests", n)
		}

		// Success: to the request's page, with a flash; the reason is text.
		wakes := pp.wakes
		p = submit("bob", "prod-db", "2h", scriptReason)
		reqs := requestsOf(t, db, "bob")
		if len(reqs) != 1 || p.location != idPath("/requests/%d", reqs[0].ID) {
			t.Fatalf("submit = %d → %q; requests %+v", p.code, p.location, reqs)
		}
		if pp.wakes != wakes+1 {
			t.Error("a new request did not wake the background loops")
		}
		p = pp.follow(t, "bob", p)
		p.must(t, 200, fmt.Sprintf("Request #%d for prod-db (2h) was sent to the approvers.", reqs[0].ID), escapedScript, `<span class="badge warn status">pending</span>`)
		p.mustNot(t, "<script>alert")
		pp.get(t, "bob", idPath("/requests/%d", reqs[0].ID)).mustNot(t, "was sent to the approvers") // the flash shows once

		// A second request while one is pending is refused on the form.
		submit("bob", "prod-db", "1h", "again").must(t, 409, fmt.Sprintf("your request %d for prod-db is already pending", reqs[0].ID))

		// On call: approved at once.
		p = pp.follow(t, "dave", submit("dave", "prod-db", "30m", "paged"))
		p.must(t, 200, "was approved at once; your access lasts until 2026-11-21 12:30 UTC.", "being applied to the tailnet")
	})
}

func requestsOf(t *testing.T, db *database.DB, who string) []grants.Request {
	t.Helper()
	var out []grants.Request
	if err := db.Where("requester = ?", email(who)).Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMyAccessPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		p := pp.get(t, "bob", "/")
		p.must(t, 200, "<h1>User u3</h1>", "bob@example.com", "Engineering", "You hold no access right now.", `href="/resources"`, "No ended grants yet.")

		r := fileRequest(t, pp, "bob", "prod-db", 2*time.Hour, scriptReason)
		p = pp.get(t, "bob", "/")
		p.must(t, 200, idPath(`<a href="/requests/%d">`, r.ID), "Waiting for approval")
		r = approve(t, pp, "carol", r.ID)
		g := r.Grant.ID

		p = pp.get(t, "bob", "/")
		p.must(t, 200, idPath(`<tr id="grant-%d">`, g), `<time data-countdown datetime="2026-11-21T14:00:00Z"`, "2h 0m left", "until 2026-11-21 14:00 UTC",
			"being applied to the tailnet", idPath(`action="/grants/%d/relinquish"`, g))
		p.must(t, 200, "Nothing is waiting.")

		// The reconciler confirms the grant in the tailnet.
		applied := pp.now.Add(3 * time.Second)
		if err := db.Model(&grants.Grant{}).Where("id = ?", g).Update("applied_at", applied).Error; err != nil {
			t.Fatal(err)
		}
		pp.get(t, "bob", "/").must(t, 200, "active in the tailnet", `since <time datetime="2026-11-21T12:00:00Z" title="2026-11-21 12:00:00 UTC" data-local>2026-11-21 12:00 UTC</time>`)

		// Nobody else sees or relinquishes bob's grant.
		pp.get(t, "erin", idPath("/grants/%d", g)).must(t, 404, idPath("no grant %d", g))
		pp.post(t, "erin", idPath("/grants/%d/relinquish", g), url.Values{"reason": {"mine"}}).must(t, 404)
		pp.get(t, "alice", idPath("/grants/%d", g)).must(t, 200, "Revoke this grant now", escapedScript)
		pp.get(t, "bob", idPath("/grants/%d", g)).must(t, 200, "Give up this access now", "Granted by</th><td>carol@example.com")

		// bob gives it up with a reason.
		wakes := pp.wakes
		p = pp.post(t, "bob", idPath("/grants/%d/relinquish", g), url.Values{"reason": {"done <b>now</b>"}, "next": {"/"}})
		if p.code != http.StatusSeeOther || p.location != "/" {
			t.Fatalf("relinquish = %d → %q", p.code, p.location)
		}
		if pp.wakes != wakes+1 {
			t.Error("relinquishing did not wake the reconciler")
		}
		p = pp.follow(t, "bob", p)
		p.must(t, 200, "You gave up prod-db", "You hold no access right now.", idPath(`<a href="/grants/%d">#%d</a>`, g, g),
			"revoked", "by bob@example.com: done &lt;b&gt;now&lt;/b&gt;", "being removed from the tailnet")
		stored, err := grants.NewStore(db).GetGrant(t.Context(), g)
		if err != nil || stored.Status != grants.GrantRevoked || stored.RevokeReason != "done <b>now</b>" {
			t.Errorf("stored grant = %+v, %v", stored, err)
		}
		// Again: refused on the grant's page, not a 500.
		pp.post(t, "bob", idPath("/grants/%d/relinquish", g), url.Values{"reason": {"twice"}}).
			must(t, 409, idPath("grant %d is revoked, not active", g))
		// An open redirect through next is impossible.
		r2 := approve(t, pp, "carol", fileRequest(t, pp, "bob", "prod-db", time.Hour, "again").ID)
		p = pp.post(t, "bob", idPath("/grants/%d/relinquish", r2.Grant.ID), url.Values{"next": {"//evil.example/"}})
		if p.location != idPath("/grants/%d", r2.Grant.ID) {
			t.Errorf("relinquish with next=//evil.example/ went to %q", p.location)
		}
	})
}

func TestMyAccessHistoryPaginates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		start := pp.now.Add(-30 * 24 * time.Hour)
		for i := range 120 {
			g := grants.Grant{Resource: "staging", UserEmail: email("bob"), GroupName: "group:jit-staging",
				StartsAt: start.Add(time.Duration(i) * time.Hour), ExpiresAt: start.Add(time.Duration(i)*time.Hour + 30*time.Minute), Status: grants.GrantExpired}
			if err := db.Create(&g).Error; err != nil {
				t.Fatal(err)
			}
		}
		rowRE := regexp.MustCompile(`<td><a href="/grants/(\d+)">`)
		var seen []string
		path := "/"
		for pages := 0; path != ""; pages++ {
			if pages == 5 {
				t.Fatal("history pagination does not end")
			}
			p := pp.get(t, "bob", path)
			p.must(t, 200)
			rows := rowRE.FindAllStringSubmatch(p.body, -1)
			if want := []int{50, 50, 20}[min(pages, 2)]; len(rows) != want {
				t.Errorf("page %d (%s) has %d grants, want %d", pages, path, len(rows), want)
			}
			for _, m := range rows {
				seen = append(seen, m[1])
			}
			path = ""
			if m := regexp.MustCompile(`<a href="([^"]+)" rel="next">Older`).FindStringSubmatch(p.body); m != nil {
				path = htmlUnescape(m[1])
			}
			if pages > 0 && !strings.Contains(p.body, `<a href="/">« Newest</a>`) {
				t.Errorf("page %d has no link to the newest page", pages)
			}
		}
		if len(seen) != 120 || seen[0] != "120" || seen[119] != "1" {
			t.Errorf("pages showed %d grants, from %s to %s", len(seen), seen[0], seen[len(seen)-1])
		}
		pp.get(t, "bob", "/?before=x").must(t, 400, "before must be a positive whole number")
	})
}

func TestMyRequestsPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		for i := range 120 {
			status := grants.RequestDenied
			if i >= 100 {
				status = grants.RequestCancelled
			}
			r := grants.Request{Resource: "staging", Requester: email("bob"), DurationSeconds: 3600, Reason: fmt.Sprintf("reason %d", i+1),
				Status: status, CreatedAt: pp.now.Add(time.Duration(i-200) * time.Minute)}
			if err := db.Create(&r).Error; err != nil {
				t.Fatal(err)
			}
		}
		fileRequest(t, pp, "erin", "staging", 0, "erin's") // not bob's: never listed for him
		rowRE := regexp.MustCompile(`<td><a href="/requests/(\d+)">`)
		p := pp.get(t, "bob", "/requests")
		p.must(t, 200, `<a href="/requests/120">#120</a>`, "reason 120", `<a href="/requests?before=71" rel="next">Older`)
		p.mustNot(t, "erin's", "« Newest")
		if n := len(rowRE.FindAllString(p.body, -1)); n != 50 {
			t.Errorf("first page has %d requests", n)
		}
		p = pp.get(t, "bob", "/requests?before=21")
		p.must(t, 200, `<a href="/requests">« Newest</a>`, `<a href="/requests/20">#20</a>`, `<a href="/requests/1">#1</a>`)
		p.mustNot(t, `rel="next"`)

		// The status filter survives paging.
		p = pp.get(t, "bob", "/requests?status=denied")
		p.must(t, 200, `<option value="denied" selected>`, `<a href="/requests?before=51&amp;status=denied" rel="next">`, `<a href="/requests/100">`)
		p.mustNot(t, `<span class="badge ">cancelled</span>`, `<a href="/requests/101">`)
		p = pp.get(t, "bob", "/requests?before=51&status=denied")
		p.must(t, 200, `<a href="/requests?status=denied">« Newest</a>`, `<a href="/requests/1">`)
		p.mustNot(t, `rel="next"`)
		if n := len(rowRE.FindAllString(p.body, -1)); n != 50 {
			t.Errorf("second page of denied requests: %d rows, want 50", n)
		}
		p = pp.get(t, "bob", "/requests?status=cancelled")
		p.must(t, 200, `<a href="/requests/120">`, `<a href="/requests/101">`)
		p.mustNot(t, `rel="next"`, `<a href="/requests/100">`)
		pp.get(t, "bob", "/requests?status=bogus").must(t, 400, "status must be one of")
	})
}

func TestRequestPageAndCancel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, false)
		r := fileRequest(t, pp, "bob", "prod-db", 90*time.Minute, scriptReason)
		path := idPath("/requests/%d", r.ID)
		for _, c := range []struct {
			who  string
			code int
		}{{"bob", 200}, {"carol", 200}, {"alice", 200}, {"erin", 404}, {"dave", 404}} {
			p := pp.get(t, c.who, path)
			if p.code != c.code {
				t.Errorf("%s GET %s = %d, want %d", c.who, path, p.code, c.code)
			}
			if c.code == 200 {
				p.must(t, 200, "User u3 &lt;bob@example.com&gt;", "Production Aurora Postgres", "1h30m", escapedScript, "0 of 1 approval(s)")
				p.mustNot(t, "<script>alert")
			}
		}
		pp.get(t, "bob", "/requests/999").must(t, 404, "no request 999")
		pp.get(t, "bob", "/requests/x").must(t, 400, "request id must be a positive whole number")

		// Only bob cancels, and only while pending.
		pp.get(t, "bob", path).must(t, 200, idPath(`action="/requests/%d/cancel"`, r.ID))
		pp.get(t, "carol", path).mustNot(t, "/cancel")
		pp.post(t, "carol", path+"/cancel", nil).must(t, 403, "only bob@example.com, who made request")
		pp.post(t, "erin", path+"/cancel", nil).must(t, 404)
		p := pp.follow(t, "bob", pp.post(t, "bob", path+"/cancel", nil))
		p.must(t, 200, idPath("Request #%d for prod-db was cancelled.", r.ID), `<span class="badge  status">cancelled</span>`)
		p.mustNot(t, "/cancel\"")
		pp.post(t, "bob", path+"/cancel", nil).must(t, 409, idPath("request %d is cancelled, not pending", r.ID))
	})
}
