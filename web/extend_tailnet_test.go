package web_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/policyfile"
)

// policyVersions are the texts of every policy the tailnet accepted, oldest
// first, from its configuration log.
func (f *flowPortal) policyVersions(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, e := range f.tailnet.ConfigLog() {
		if text, ok := e.New.(string); ok && e.Target.Property == "ACL" {
			out = append(out, text)
		}
	}
	return out
}

// TestExtensionKeepsTheGranteeInTheTailnet: a grant of a few seconds is
// extended (auto-approved) before it ends; the real reconciler runs passes
// until well after the original end, and no policy the tailnet ever
// accepted after the grant was applied lacks the grantee.
func TestExtensionKeepsTheGranteeInTheTailnet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFlowPortal(t, db)
		dave := token(t, db, email("dave"), time.Hour, time.Now())
		call := func(method, p, body string, out any) {
			t.Helper()
			res, b := do(t, method, f.url+p, dave, body, "Content-Type", "application/json")
			if res.StatusCode/100 != 2 {
				t.Fatalf("%s %s = %d %s", method, p, res.StatusCode, b)
			}
			if err := json.Unmarshal([]byte(b), out); err != nil {
				t.Fatal(err)
			}
		}
		var first lifecycleRequest
		call("POST", "/api/v1/requests", `{"resource":"prod-db","duration":"4s","reason":"paged"}`, &first)
		if first.Grant == nil {
			t.Fatalf("not auto-approved: %+v", first)
		}
		gid := first.Grant.ID
		originalEnd := first.Grant.ExpiresAt
		var g grants.Grant
		f.waitForPass(t, "the grant is applied", func() bool {
			return db.Where("id = ? AND applied_at IS NOT NULL", gid).Limit(1).Find(&g).Error == nil && g.ID != 0
		})

		var ext lifecycleRequest
		call("POST", fmt.Sprintf("/api/v1/grants/%d/extend", gid), `{"duration":"1h","reason":"still on it"}`, &ext)
		if ext.Grant == nil || ext.Grant.ID != gid || !ext.Grant.ExpiresAt.After(originalEnd.Add(50*time.Minute)) {
			t.Fatalf("extension = %+v, grant %+v", ext, ext.Grant)
		}

		// Drive reconciler passes until two seconds past the original end.
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(originalEnd.Add(2 * time.Second)) {
			if time.Now().After(deadline) {
				t.Fatal("the original end never came")
			}
			passed := f.rec.WaitPass()
			f.rec.Wake()
			select {
			case <-passed:
			case <-time.After(10 * time.Second):
				t.Fatal("no reconciler pass within 10s of a wake")
			}
		}

		versions := f.policyVersions(t)
		applied := false
		for i, text := range versions {
			groups, err := policyfile.ReadGroups([]byte(text))
			if err != nil {
				t.Fatalf("policy version %d: %v", i, err)
			}
			in := slices.Contains(groups["group:jit-prod-db"], email("dave"))
			if applied && !in {
				t.Fatalf("policy version %d of %d dropped dave during the extension:\n%s", i, len(versions), text)
			}
			applied = applied || in
		}
		if !applied {
			t.Fatalf("no policy version held dave (%d versions)", len(versions))
		}
		if err := db.Where("id = ?", gid).Take(&g).Error; err != nil || g.Status != grants.GrantActive || g.RemovedAt != nil {
			t.Errorf("grant after the original end = %+v, %v", g, err)
		}
	})
}

// TestBrowserApproverDecidesFromHome: an approver signs in, sees the
// waiting request and its count on the home page and in the navigation,
// approves it for a shorter duration than asked, and the grant has that
// length.
func TestBrowserApproverDecidesFromHome(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := newBrowser(t)
		f := newFlowPortal(t, db)
		css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
			t.Fatal(err)
		}
		bob, err := grants.LookupPerson(t.Context(), db.DB, email("bob"))
		if err != nil {
			t.Fatal(err)
		}
		cat, err := grants.ParseCatalog("jit.hujson", []byte(jitCatalog))
		if err != nil {
			t.Fatal(err)
		}
		req, err := grants.NewStore(db).CreateRequest(t.Context(), cat, bob, grants.RequestInput{Resource: "prod-db", Duration: 2 * time.Hour, Reason: "INC-88 replication"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}

		browserSignIn(t, ctx, f.url, "carol")
		row := fmt.Sprintf(`tr#awaiting-%d`, req.ID)
		if err := chromedp.Do(ctx, chromedp.WaitVisible(css(row))); err != nil {
			t.Fatalf("no waiting request on carol's home page: %v", err)
		}
		heading, _ := chromedp.Run(ctx, chromedp.Text(css(`#awaiting-title`)))
		navCount, _ := chromedp.Run(ctx, chromedp.Text(css(`header nav a[href="/approvals"] .count`)))
		rowText, _ := chromedp.Run(ctx, chromedp.Text(css(row)))
		if heading != "Waiting for your decision 1" || navCount != "1" {
			t.Errorf("heading %q, navigation count %q; want the count 1 in both", heading, navCount)
		}
		for _, want := range []string{"bob@example.com", "prod-db", "2h", "INC-88 replication"} {
			if !strings.Contains(rowText, want) {
				t.Errorf("waiting row lacks %q: %q", want, rowText)
			}
		}

		sel := fmt.Sprintf(`#approve-duration-%d`, req.ID)
		err = chromedp.Do(ctx,
			chromedp.Click(css(row+` a[href="/requests/`+fmt.Sprint(req.ID)+`"]`)),
			chromedp.WaitVisible(css(sel)),
		)
		if err != nil {
			t.Fatal(err)
		}
		if chosen, _ := chromedp.Run(ctx, chromedp.Value(css(sel))); chosen != "2h" {
			t.Errorf("the approval form preselects %q, want the requested 2h", chosen)
		}
		err = chromedp.Do(ctx,
			chromedp.SetValue(css(sel), "30m"),
			chromedp.Click(css(fmt.Sprintf(`form[action="/requests/%d/approve"] button`, req.ID))),
			chromedp.WaitVisible(css(`.banner.ok`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		got, err := grants.NewStore(db).GetRequest(t.Context(), req.ID)
		if err != nil || got.Status != grants.RequestApproved || got.Grant == nil {
			t.Fatalf("after approving: %+v, %v", got, err)
		}
		// Grants end on a whole second, rounded up.
		if d := got.Grant.ExpiresAt.Sub(got.Grant.StartsAt); d < 30*time.Minute || d >= 30*time.Minute+time.Second {
			t.Errorf("the grant lasts %s, want the 30m carol chose", d)
		}
		// Nothing waits any more: the count is gone from the navigation.
		if err := chromedp.Do(ctx, chromedp.Navigate(f.url+"/")); err != nil {
			t.Fatal(err)
		}
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("header nav .count, #awaiting-title").length`)); n != 0 {
			t.Errorf("%d count elements after the decision", n)
		}
	})
}
