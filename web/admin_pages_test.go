package web_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
)

// adminFixture is a portal with an admin (alice), two engineers (bob,
// carol), a suspended engineer (dave), a catalog with two resources and one
// synced group, and signed-in browsers for alice and bob.
type adminFixture struct {
	*oidcPortal
	alice, bob *http.Client
}

func newAdminFixture(t *testing.T, db *database.DB) *adminFixture {
	t.Helper()
	p := newOIDCPortal(t, db)
	p.catalog.Groups = map[string]string{"group:eng": "Engineering"}
	p.catalog.Resources = map[string]grants.Resource{
		"prod-db": {Name: "prod-db", Description: "Production database", Group: "group:jit-prod-db", Approvers: []string{"Security"}, Approvals: 2, MaxDuration: 4 * time.Hour},
		"staging": {Name: "staging", Description: "Staging cluster", Group: "group:jit-staging", MaxDuration: 4 * time.Hour},
	}
	for _, u := range []struct{ id, email, status string }{
		{"u1", "alice@example.com", grants.StatusActive}, {"u2", "bob@example.com", grants.StatusActive},
		{"u3", "carol@example.com", grants.StatusActive}, {"u4", "dave@example.com", grants.StatusSuspended},
	} {
		p.okta.AddUser(oktafake.User{ID: u.id, Login: u.email, Email: u.email})
		groups := []string{"Engineering"}
		if u.id == "u1" {
			groups = []string{"Portal Admins"}
		}
		addUser(t, db, u.id, u.email, u.status, groups...)
	}
	f := &adminFixture{oidcPortal: p, alice: browser(t), bob: browser(t)}
	p.signIn(t, f.alice, "alice@example.com", "/")
	p.signIn(t, f.bob, "bob@example.com", "/")
	return f
}

// addGrant stores an active grant directly.
func (f *adminFixture) addGrant(t *testing.T, resource, user string, requestID *int64, grantedBy, reason string, applied bool) grants.Grant {
	t.Helper()
	g := grants.Grant{
		RequestID: requestID, Resource: resource, UserEmail: user, GroupName: f.catalog.Resources[resource].Group,
		StartsAt: f.now.Add(-time.Hour), ExpiresAt: f.now.Add(2 * time.Hour), Status: grants.GrantActive,
		GrantedBy: grantedBy, Reason: reason,
	}
	if g.GroupName == "" {
		g.GroupName = "group:jit-" + resource
	}
	if applied {
		at := f.now.Add(-59 * time.Minute)
		g.AppliedAt = &at
	}
	if err := f.db.Create(&g).Error; err != nil {
		t.Fatal(err)
	}
	return g
}

// adminPost posts a form the way a browser on the portal's own pages does.
func adminPost(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res, b.String()
}

// adminGet fetches a page that must answer 200.
func adminGet(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, body := get(t, c, u)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d: %s", u, res.StatusCode, body)
	}
	return body
}

var adminHref = regexp.MustCompile(`<a [^>]*href="([^"]+)"[^>]*>([^<]+)</a>`)

// adminLink finds the href of the link with this text.
func adminLink(page, text string) string {
	for _, m := range adminHref.FindAllStringSubmatch(page, -1) {
		if strings.TrimSpace(m[2]) == text {
			return htmlUnescape(m[1])
		}
	}
	return ""
}

func TestAdminPagesAreForAdmins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newAdminFixture(t, db)
		addUser(t, db, "u9", "erin@example.com", grants.StatusActive, "Engineering")
		f.okta.AddUser(oktafake.User{ID: "u9", Login: "erin@example.com", Email: "erin@example.com"})
		erin := browser(t)
		f.signIn(t, erin, "erin@example.com", "/")
		// Erin leaves: her session no longer counts.
		db.Model(&grants.DirectoryUser{}).Where("id = ?", "u9").Update("status", grants.StatusDeprovisioned)

		for _, path := range []string{"/admin/access", "/admin/requests", "/admin/offboarding", "/admin/audit", "/admin/audit/export?format=csv", "/admin/tokens"} {
			res, _ := get(t, browser(t), f.srv.URL+path)
			if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape(path) {
				t.Errorf("anonymous %s = %d → %q", path, res.StatusCode, loc)
			}
			if res, _ := get(t, erin, f.srv.URL+path); res.StatusCode != http.StatusSeeOther {
				t.Errorf("deactivated %s = %d, want a redirect to sign-in", path, res.StatusCode)
			}
			if res, body := get(t, f.bob, f.srv.URL+path); res.StatusCode != http.StatusForbidden || !strings.Contains(body, "portal admins") {
				t.Errorf("employee %s = %d, want 403", path, res.StatusCode)
			}
			if res, body := get(t, f.alice, f.srv.URL+path); res.StatusCode != http.StatusOK {
				t.Errorf("admin %s = %d: %s", path, res.StatusCode, body)
			}
		}
		g := f.addGrant(t, "staging", "carol@example.com", nil, "alice@example.com", "on call", true)
		if res, _ := adminPost(t, f.bob, fmt.Sprintf("%s/admin/grants/%d/revoke", f.srv.URL, g.ID), url.Values{"reason": {"mine now"}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("employee revoking from the admin page = %d, want 403", res.StatusCode)
		}
		if got, _ := grants.NewStore(db).GetGrant(t.Context(), g.ID); got.Status != grants.GrantActive {
			t.Errorf("grant after an employee's attempt: %s", got.Status)
		}
		// Everybody signed in has /tokens; nobody else.
		if res, _ := get(t, browser(t), f.srv.URL+"/tokens"); res.StatusCode != http.StatusSeeOther {
			t.Errorf("anonymous /tokens = %d", res.StatusCode)
		}
		if res, _ := get(t, f.bob, f.srv.URL+"/tokens"); res.StatusCode != http.StatusOK {
			t.Errorf("employee /tokens = %d", res.StatusCode)
		}
		// Every admin page links every admin section, the catalog editor too.
		page := adminGet(t, f.alice, f.srv.URL+"/admin/audit")
		for _, href := range []string{"/admin", "/admin/access", "/admin/requests", "/admin/offboarding", "/admin/audit", "/admin/tokens", "/admin/catalog"} {
			if !strings.Contains(page, `<a href="`+href+`"`) {
				t.Errorf("admin navigation lacks %s", href)
			}
		}
		if !strings.Contains(page, `<a href="/admin/audit" aria-current="page">`) {
			t.Error("admin navigation does not mark the current section")
		}
	})
}

func TestAdminAccessShowsWhoHasWhat(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newAdminFixture(t, db)
		req := grants.Request{Resource: "prod-db", Requester: "bob@example.com", DurationSeconds: 10800, Status: grants.RequestApproved, CreatedAt: f.now.Add(-2 * time.Hour)}
		if err := db.Create(&req).Error; err != nil {
			t.Fatal(err)
		}
		f.addGrant(t, "prod-db", "bob@example.com", &req.ID, "sam@example.com", `<script>alert("x")</script>`, true)
		f.addGrant(t, "staging", "carol@example.com", nil, "alice@example.com", "incident 7", false)
		ended := f.addGrant(t, "staging", "bob@example.com", nil, "alice@example.com", "old", true)
		db.Model(&grants.Grant{}).Where("id = ?", ended.ID).Update("status", grants.GrantExpired)

		page := adminGet(t, f.alice, f.srv.URL+"/admin/access")
		for _, want := range []string{
			"prod-db", "group:jit-prod-db", "Production database",
			fmt.Sprintf(`<a href="/requests/%d">request #%d</a>, approved by sam@example.com`, req.ID, req.ID),
			"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
			"admin grant by alice@example.com", "incident 7",
			`<time datetime="2026-11-21T11:00:00Z">2026-11-21 11:00:00 UTC</time>`,
			`data-countdown datetime="2026-11-21T14:00:00Z">2h 0m left</time>`,
			`<span class="badge warn">pending</span>`, `title="confirmed in the policy at 2026-11-21 11:01:00 UTC">applied</span>`,
			`Okta group “Engineering”`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("access page lacks %q", want)
			}
		}
		if strings.Contains(page, "<script>alert") {
			t.Error("a reason is rendered as HTML")
		}
		// The summary counts each resource's active grants and those the
		// tailnet policy does not hold yet.
		summary := regexp.MustCompile(`(?s)<a href="/admin/access\?resource=(prod-db|staging)">.*?<td>(\d+)( <span class="badge warn" title="not yet confirmed in the tailnet policy">(\d+) pending</span>)?</td>`)
		var counts []string
		for _, m := range summary.FindAllStringSubmatch(page, 2) {
			counts = append(counts, m[1]+":"+m[2]+"/"+m[4])
		}
		if fmt.Sprint(counts) != "[prod-db:1/ staging:1/1]" {
			t.Errorf("resource summary = %v, want prod-db 1 active, staging 1 active, 1 pending", counts)
		}
		if strings.Contains(page, ">old<") || strings.Contains(page, "“old”") {
			t.Error("an expired grant is listed as access")
		}
		members := page[strings.Index(page, `id="members"`):]
		for _, want := range []string{"bob@example.com", "carol@example.com"} {
			if !strings.Contains(members, want) {
				t.Errorf("members lack %s", want)
			}
		}
		if strings.Contains(members, "dave@example.com") {
			t.Error("a suspended user is listed as a member of the synced group")
		}

		// Filter by user: carol's grant and membership only.
		page = adminGet(t, f.alice, f.srv.URL+"/admin/access?user=carol")
		if !strings.Contains(page, "incident 7") || strings.Contains(page, "request #") {
			t.Error("user filter did not keep only carol's grants")
		}
		if members := page[strings.Index(page, `id="members"`):]; !strings.Contains(members, "carol@example.com") || strings.Contains(members, "bob@example.com") {
			t.Error("user filter did not keep only carol's memberships")
		}
		// Filter by resource, and by synced group.
		page = adminGet(t, f.alice, f.srv.URL+"/admin/access?resource=prod-db")
		if !strings.Contains(page, "request #") || strings.Contains(page, "incident 7") || strings.Contains(page, `id="members"`) {
			t.Error("resource filter did not keep only prod-db's grants")
		}
		page = adminGet(t, f.alice, f.srv.URL+"/admin/access?resource=group%3Aeng")
		if strings.Contains(page, `id="grants"`) || !strings.Contains(page, "carol@example.com") {
			t.Error("synced group filter did not show only the group's members")
		}
	})
}

func TestAdminAccessPaginates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newAdminFixture(t, db)
		for i := range 120 {
			email := fmt.Sprintf("user%03d@example.com", i)
			addUser(t, db, fmt.Sprintf("x%03d", i), email, grants.StatusActive, "Engineering")
			resource := "staging"
			if i%3 == 0 {
				resource = "prod-db"
			}
			f.addGrant(t, resource, email, nil, "alice@example.com", "load", true)
		}
		walk := func(start, rowMark, next string) []string {
			var seen []string
			u := f.srv.URL + start
			for pages := 0; u != ""; pages++ {
				if pages > 10 {
					t.Fatal("paging does not end")
				}
				page := adminGet(t, f.alice, u)
				section := page[strings.Index(page, rowMark):]
				section = section[:strings.Index(section, "</table>")]
				for _, m := range regexp.MustCompile(`<td><a href="/admin/access\?user=[^"]+">([^<]+)</a></td>`).FindAllStringSubmatch(section, -1) {
					seen = append(seen, m[1])
				}
				u = ""
				pager := page[strings.Index(page, rowMark):]
				pager = pager[:strings.Index(pager, "</nav>")]
				if l := adminLink(pager, next); l != "" {
					u = f.srv.URL + strings.TrimSuffix(strings.TrimSuffix(l, "#grants"), "#members")
				}
			}
			return seen
		}
		grantees := walk("/admin/access", `id="grants"`, "Next page")
		if len(grantees) != 120 {
			t.Fatalf("paging through grants showed %d rows, want 120", len(grantees))
		}
		once := map[string]bool{}
		for _, g := range grantees {
			if once[g] {
				t.Errorf("%s shown twice", g)
			}
			once[g] = true
		}
		// prod-db's 40 grants come first, each resource sorted by grantee.
		if grantees[0] != "user000@example.com" || grantees[39] != "user117@example.com" || grantees[40] != "user001@example.com" {
			t.Errorf("grants not ordered by resource then user: %v … %v", grantees[:2], grantees[39:42])
		}
		members := walk("/admin/access?resource=group%3Aeng", `id="members"`, "Next page")
		if len(members) != 122 { // bob, carol and the 120
			t.Errorf("paging through members showed %d rows, want 122", len(members))
		}
		// Filters survive paging.
		page := adminGet(t, f.alice, f.srv.URL+"/admin/access?user=user0&resource=staging")
		if next := adminLink(page, "Next page"); !strings.Contains(next, "user=user0") || !strings.Contains(next, "resource=staging") || !strings.Contains(next, "gafter=") {
			t.Errorf("next page link %q loses the filters", next)
		}
	})
}

func TestAdminRevokesAGrant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newAdminFixture(t, db)
		g := f.addGrant(t, "prod-db", "bob@example.com", nil, "sam@example.com", "deploy", true)
		revoke := fmt.Sprintf("%s/admin/grants/%d/revoke", f.srv.URL, g.ID)
		back := "/admin/access?resource=prod-db"

		// Without a reason nothing happens, and the admin is told why.
		res, _ := adminPost(t, f.alice, revoke, url.Values{"back": {back}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != back {
			t.Fatalf("revoke without reason = %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		if page := adminGet(t, f.alice, f.srv.URL+back); !strings.Contains(page, "give a reason") {
			t.Error("no message about the missing reason")
		}
		if got, _ := grants.NewStore(db).GetGrant(t.Context(), g.ID); got.Status != grants.GrantActive {
			t.Fatalf("grant revoked without a reason")
		}
		wakes := f.wakes
		res, _ = adminPost(t, f.alice, revoke, url.Values{"back": {back}, "reason": {"left the project"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != back {
			t.Fatalf("revoke = %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		got, _ := grants.NewStore(db).GetGrant(t.Context(), g.ID)
		if got.Status != grants.GrantRevoked || got.RevokedBy != "alice@example.com" || got.RevokeReason != "left the project" {
			t.Errorf("grant after revoke = %+v", got)
		}
		if f.wakes == wakes {
			t.Error("revoking did not wake the reconciler")
		}
		page := adminGet(t, f.alice, f.srv.URL+back)
		if !strings.Contains(page, fmt.Sprintf("Grant %d revoked", g.ID)) || strings.Contains(page, fmt.Sprintf(`data-grant="%d"`, g.ID)) {
			t.Error("after revoking, the page lacks the message or still lists the grant")
		}
		// Twice: refused, said so.
		adminPost(t, f.alice, revoke, url.Values{"reason": {"again"}})
		if page := adminGet(t, f.alice, f.srv.URL+"/admin/access"); !strings.Contains(page, "not active") {
			t.Error("revoking a revoked grant says nothing")
		}
		// The return address stays on the admin pages.
		res, _ = adminPost(t, f.alice, fmt.Sprintf("%s/admin/grants/%d/revoke", f.srv.URL, 999), url.Values{"reason": {"x"}, "back": {"https://evil.example/"}})
		if loc := res.Header.Get("Location"); loc != "/admin/access" {
			t.Errorf("revoke redirected to %q", loc)
		}
		events, _ := grants.NewStore(db).ListAuditPage(t.Context(), grants.AuditPageQuery{AuditFilter: grants.AuditFilter{Action: "grant.revoke"}})
		if len(events.Events) != 1 || events.Events[0].Actor != "alice@example.com" || !strings.Contains(events.Events[0].Details, "left the project") {
			t.Errorf("audit of the revoke: %+v", events.Events)
		}
	})
}

func TestAdminPendingRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newAdminFixture(t, db)
		for i := range 60 {
			r := grants.Request{Resource: "prod-db", Requester: fmt.Sprintf("user%02d@example.com", i), DurationSeconds: 3600,
				Reason: fmt.Sprintf("ticket <%d>", i), Status: grants.RequestPending, CreatedAt: f.now.Add(time.Duration(i-90) * time.Minute)}
			if err := db.Create(&r).Error; err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				db.Create(&grants.Approval{RequestID: r.ID, Approver: "sec@example.com", Decision: grants.DecisionApprove, At: f.now})
			}
		}
		db.Create(&grants.Request{Resource: "staging", Requester: "done@example.com", DurationSeconds: 60, Status: grants.RequestApproved, CreatedAt: f.now})

		page := adminGet(t, f.alice, f.srv.URL+"/admin/requests")
		rows := regexp.MustCompile(`<tr data-request="(\d+)">`).FindAllStringSubmatch(page, -1)
		if len(rows) != 50 {
			t.Fatalf("first page has %d requests, want 50", len(rows))
		}
		for _, want := range []string{"user00@example.com", "ticket &lt;0&gt;", "1h 30m", "1 of 2", "sec@example.com", "by Security"} {
			if !strings.Contains(page, want) {
				t.Errorf("pending requests page lacks %q", want)
			}
		}
		if strings.Contains(page, "done@example.com") || strings.Contains(page, "user50@example.com") {
			t.Error("first page shows a decided request or one of the second page")
		}
		next := adminLink(page, "Next page")
		page = adminGet(t, f.alice, f.srv.URL+next)
		if n := len(regexp.MustCompile(`<tr data-request=`).FindAllString(page, -1)); n != 10 || !strings.Contains(page, "user59@example.com") || adminLink(page, "Next page") != "" {
			t.Errorf("second page: %d requests, next %q", n, adminLink(page, "Next page"))
		}
		page = adminGet(t, f.alice, f.srv.URL+"/admin/requests?requester=user0")
		if n := len(regexp.MustCompile(`<tr data-request=`).FindAllString(page, -1)); n != 10 {
			t.Errorf("requester filter kept %d requests, want 10", n)
		}
	})
}

func TestAdminOffboardingTimeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newAdminFixture(t, db)
		received := f.now.Add(-10 * time.Minute)
		started := received.Add(1500 * time.Millisecond)
		confirmed := started.Add(4 * time.Second)
		db.Create(&grants.Offboarding{Email: "dave@example.com", OktaUserID: "u4", OktaStatus: grants.StatusSuspended, EventUUID: "evt-1",
			EventReceivedAt: &received, StartedAt: started, GrantsRevoked: 2, RequestsCancelled: 1, SessionsDeleted: 3, TokensDisabled: 4, PolicyConfirmedAt: &confirmed})
		db.Create(&grants.Offboarding{Email: "erin@example.com", OktaStatus: grants.StatusDeleted, StartedAt: f.now.Add(-time.Minute)})

		page := adminGet(t, f.alice, f.srv.URL+"/admin/offboarding")
		dave := page[strings.Index(page, "dave@example.com"):]
		for _, want := range []string{
			"Okta event received", "2026-11-21 11:50:00 UTC", "event evt-1",
			"Cascade started", "2026-11-21 11:50:01 UTC", "&#43;1.5s",
			"Tailnet policy confirmed", "2026-11-21 11:50:05 UTC", "&#43;4s",
			"2 grants revoked", "1 requests cancelled", "3 sessions deleted", "4 API tokens disabled",
		} {
			if !strings.Contains(dave, want) {
				t.Errorf("dave's timeline lacks %q", want)
			}
		}
		erin := page[strings.Index(page, "erin@example.com"):strings.Index(page, "dave@example.com")]
		if !strings.Contains(erin, "found by the directory poll") || !strings.Contains(erin, "waiting for the reconciler") || !strings.Contains(erin, "DELETED") {
			t.Errorf("erin's record (newest first) lacks the poll or waiting step: %s", erin)
		}
		page = adminGet(t, f.alice, f.srv.URL+"/admin/offboarding?email=dave")
		if strings.Contains(page, "erin@example.com") || !strings.Contains(page, "dave@example.com") {
			t.Error("email filter did not keep only dave")
		}
	})
}

func TestAdminAuditLogFiltersPagesAndExports(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newAdminFixture(t, db)
		t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for i := range 130 {
			actor, action := "system", "grant.expire"
			if i%2 == 0 {
				actor, action = "bob@example.com", "request.create"
			}
			err := grants.AppendAudit(t.Context(), db.DB, grants.Event{At: t0.Add(time.Duration(i) * time.Hour), Actor: actor, Action: action,
				Target: fmt.Sprintf("grant:%d", i%7), Details: map[string]any{"i": i, "note": "<b>bold</b>"}})
			if err != nil {
				t.Fatal(err)
			}
		}
		ids := func(page string) []int64 {
			var out []int64
			for _, m := range regexp.MustCompile(`<tr data-event="(\d+)">`).FindAllStringSubmatch(page, -1) {
				id, _ := strconv.ParseInt(m[1], 10, 64)
				out = append(out, id)
			}
			return out
		}
		page := adminGet(t, f.alice, f.srv.URL+"/admin/audit")
		if got := ids(page); len(got) != 50 || got[0] < got[49] {
			t.Fatalf("first page: %d events %v", len(got), got)
		}
		if !strings.Contains(page, "&lt;b&gt;bold&lt;/b&gt;") || strings.Contains(page, "<b>bold</b>") {
			t.Error("details are not escaped")
		}
		actors := func(page string) map[string]bool {
			out := map[string]bool{}
			for _, m := range regexp.MustCompile(`<td><a href="/admin/audit\?actor=([^"]+)">`).FindAllStringSubmatch(page, -1) {
				out[m[1]] = true
			}
			return out
		}
		// Walk every page of a filter: 65 of bob's events, on two pages.
		var seen []int64
		u := f.srv.URL + "/admin/audit?actor=BOB%40example.com&action=request.create"
		for pages := 0; u != ""; pages++ {
			if pages > 3 {
				t.Fatal("paging does not end")
			}
			page := adminGet(t, f.alice, u)
			seen = append(seen, ids(page)...)
			if a := actors(page); len(a) != 1 || !a["bob%40example.com"] {
				t.Fatalf("actor filter shows actors %v", a)
			}
			u = ""
			if l := adminLink(page, "Older"); l != "" {
				u = f.srv.URL + l
				if !strings.Contains(l, "actor=bob%40example.com") || !strings.Contains(l, "action=request.create") || !strings.Contains(l, "before=") {
					t.Errorf("older link %q loses the filters", l)
				}
			}
		}
		if len(seen) != 65 {
			t.Fatalf("filtered walk saw %d events, want 65", len(seen))
		}
		// A time range (datetime-local and RFC 3339 alike): hours 24 to 95,
		// of which bob's are 36.
		page = adminGet(t, f.alice, f.srv.URL+"/admin/audit?actor=bob%40example.com&since=2026-11-02T00:00&until=2026-11-05T00:00:00Z")
		if got := ids(page); len(got) != 36 {
			t.Errorf("time range kept %d events, want 36", len(got))
		}
		if !strings.Contains(page, `name="since" value="2026-11-02T00:00:00"`) {
			t.Error("the form does not keep the time filter")
		}
		// All events, older to the end and one page newer again.
		var all []int64
		u = f.srv.URL + "/admin/audit"
		var prev string
		for u != "" {
			page := adminGet(t, f.alice, u)
			all = append(all, ids(page)...)
			prev, u = u, ""
			if l := adminLink(page, "Older"); l != "" {
				u = f.srv.URL + l
			}
		}
		if len(all) != 130 {
			t.Fatalf("walk over all pages saw %d events", len(all))
		}
		last := adminGet(t, f.alice, prev)
		newer := adminLink(last, "Newer")
		if newer == "" || !strings.Contains(newer, "after=") {
			t.Fatalf("last page has no newer link")
		}
		if got := ids(adminGet(t, f.alice, f.srv.URL+newer)); len(got) != 50 || got[0] != all[50] || got[49] != all[99] {
			t.Errorf("newer page from the last = %v…, want the second page %v…", got[:1], all[50:51])
		}
		page = adminGet(t, f.alice, f.srv.URL+"/admin/audit?target=grant:3")
		if got := ids(page); len(got) != 19 {
			t.Errorf("target filter kept %d events, want 19", len(got))
		}
		if res, _ := get(t, f.alice, f.srv.URL+"/admin/audit?since=yesterday"); res.StatusCode != http.StatusBadRequest {
			t.Errorf("a bad time = %d, want 400", res.StatusCode)
		}

		// The export buttons carry the filters.
		page = adminGet(t, f.alice, f.srv.URL+"/admin/audit?action=grant.expire&target=grant:3")
		csvLink := adminLink(page, "Export CSV")
		if !strings.HasPrefix(csvLink, "/admin/audit/export?") || !strings.Contains(csvLink, "format=csv") || !strings.Contains(csvLink, "action=grant.expire") || !strings.Contains(csvLink, "target=grant%3A3") {
			t.Fatalf("export link %q", csvLink)
		}
		if l := adminLink(page, "Export JSON"); !strings.Contains(l, "format=json") || !strings.Contains(l, "action=grant.expire") {
			t.Errorf("JSON export link %q", l)
		}
		res, body := get(t, f.alice, f.srv.URL+csvLink)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export = %d %v", res.StatusCode, res.Header)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 11 { // header + grant:3's 10 odd events
			t.Errorf("export has %d rows, want header + 10", len(rows))
		}
		for _, r := range rows[1:] {
			if r[3] != "grant.expire" || r[4] != "grant:3" || len(r[7]) != 64 {
				t.Errorf("exported row %v", r)
			}
		}
		exports, _ := grants.NewStore(db).ListAuditPage(t.Context(), grants.AuditPageQuery{AuditFilter: grants.AuditFilter{Action: "audit.export"}})
		if len(exports.Events) != 1 || !strings.Contains(exports.Events[0].Details, `"target":"grant:3"`) || exports.Events[0].Actor != "alice@example.com" {
			t.Errorf("export audit = %+v", exports.Events)
		}
	})
}

var adminSecret = regexp.MustCompile(`<code class="secret" id="new-token-secret">(pat_[A-Za-z0-9_-]+)</code>`)

func TestTokensCreateUseAndRevoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newAdminFixture(t, db)
		res, page := adminPost(t, f.bob, f.srv.URL+"/tokens", url.Values{"name": {"laptop <cli>"}, "ttl": {"168h"}})
		if res.StatusCode != http.StatusCreated || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("create = %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
		}
		m := adminSecret.FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, "laptop &lt;cli&gt;") {
			t.Fatalf("the new secret is not shown: %s", page)
		}
		secret := m[1]
		if res, body := do(t, "GET", f.srv.URL+"/api/v1/me", secret, ""); res.StatusCode != 200 || !strings.Contains(body, "bob@example.com") {
			t.Fatalf("me with the new token = %d %s", res.StatusCode, body)
		}
		// Listed, and never shown again.
		page = adminGet(t, f.bob, f.srv.URL+"/tokens")
		if strings.Contains(page, secret) || !strings.Contains(page, "laptop &lt;cli&gt;") || !strings.Contains(page, "2026-11-28 12:00:00 UTC") {
			t.Error("token list shows the secret or lacks the token")
		}
		id := regexp.MustCompile(`<tr data-token="(\d+)">`).FindStringSubmatch(page)[1]

		// Someone else's token cannot be revoked by an employee.
		carolSecret := token(t, db, "carol@example.com", time.Hour, f.now)
		var carolTok grants.APIToken
		db.Where("email = ?", "carol@example.com").Take(&carolTok)
		if res, _ := adminPost(t, f.bob, fmt.Sprintf("%s/tokens/%d/revoke", f.srv.URL, carolTok.ID), nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("bob revoking carol's token = %d, want 404", res.StatusCode)
		}
		// Cross-site posts are refused.
		req, _ := http.NewRequest("POST", f.srv.URL+"/tokens/"+id+"/revoke", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if res, err := f.bob.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site revoke = %v %v", res, err)
		}

		res, _ = adminPost(t, f.bob, f.srv.URL+"/tokens/"+id+"/revoke", url.Values{"back": {"/admin/tokens"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/tokens" {
			t.Errorf("revoke = %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res, _ := do(t, "GET", f.srv.URL+"/api/v1/me", secret, ""); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("me after revoke = %d, want 401", res.StatusCode)
		}
		if page := adminGet(t, f.bob, f.srv.URL+"/tokens"); !strings.Contains(page, "revoked") {
			t.Error("the list does not say the token is revoked")
		}

		// Admins see everybody's tokens and may revoke any.
		page = adminGet(t, f.alice, f.srv.URL+"/admin/tokens")
		if !strings.Contains(page, "bob@example.com") || !strings.Contains(page, "carol@example.com") {
			t.Error("admin token list lacks someone's tokens")
		}
		page = adminGet(t, f.alice, f.srv.URL+"/admin/tokens?owner=carol@example.com")
		if strings.Contains(page, "bob@example.com") {
			t.Error("owner filter kept bob's token")
		}
		res, _ = adminPost(t, f.alice, fmt.Sprintf("%s/tokens/%d/revoke", f.srv.URL, carolTok.ID), url.Values{"back": {"/admin/tokens?owner=carol%40example.com"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/tokens?owner=carol%40example.com" {
			t.Errorf("admin revoke = %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res, _ := do(t, "GET", f.srv.URL+"/api/v1/me", carolSecret, ""); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("carol's token after the admin's revoke = %d", res.StatusCode)
		}
		revokes, _ := grants.NewStore(db).ListAuditPage(t.Context(), grants.AuditPageQuery{AuditFilter: grants.AuditFilter{Action: "token.revoke"}})
		if len(revokes.Events) != 2 || revokes.Events[0].Actor != "alice@example.com" || revokes.Events[1].Actor != "bob@example.com" {
			t.Errorf("token.revoke audit = %+v", revokes.Events)
		}

		// Bad input is said, nothing is created.
		for _, form := range []url.Values{{"name": {""}, "ttl": {"720h"}}, {"name": {"x"}, "ttl": {"0"}}, {"name": {strings.Repeat("n", 101)}, "ttl": {"720h"}}} {
			if res, _ := adminPost(t, f.bob, f.srv.URL+"/tokens", form); res.StatusCode != http.StatusBadRequest {
				t.Errorf("create %v = %d, want 400", form, res.StatusCode)
			}
		}
		var n int64
		db.Model(&grants.APIToken{}).Where("email = ?", "bob@example.com").Count(&n)
		if n != 1 {
			t.Errorf("bob has %d tokens, want 1", n)
		}
	})
}

func TestAdminDashboardShowsDriftAndNotificationHealth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newAdminFixture(t, db)
		grants.AppendAudit(t.Context(), db.DB, grants.Event{At: f.now.Add(-time.Hour), Actor: "system", Action: "sync.drift", Target: "group:eng",
			Details: map[string]any{"expected": []string{"bob@example.com"}, "found": []string{"bob@example.com", "mallory@example.com"}, "added": []string{"mallory@example.com"}, "removed": []string{}}})
		errAt := f.now.Add(-time.Minute)
		db.Create(&grants.Notification{Kind: grants.NotifyRequestPending, Recipients: "[]", Details: "{}", Status: grants.DeliveryFailed, Attempts: 5,
			CreatedAt: f.now, NextAttemptAt: f.now, LastError: "webhook answered 500 Internal Server Error: boom", LastErrorAt: &errAt})
		page := adminGet(t, f.alice, f.srv.URL+"/admin")
		drift := page[strings.Index(page, "<h2>Drift</h2>"):]
		for _, want := range []string{"2026-11-21 11:00:00 UTC", "group:eng", "mallory@example.com"} {
			if !strings.Contains(drift, want) {
				t.Errorf("drift section lacks %q", want)
			}
		}
		if !strings.Contains(page, `<span class="badge bad">1</span>`) || !strings.Contains(page, "webhook answered 500 Internal Server Error: boom") {
			t.Error("notification health lacks the failure")
		}
	})
}
