package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/sync/policyfile"
	"github.com/accessportal/portal/sync/reconcile"
	"github.com/accessportal/portal/sync/tailnet"
	"github.com/accessportal/portal/sync/tailnetfake"
	"github.com/accessportal/portal/web"
)

// flowPolicy is the simulated tailnet's policy at the start of the flow:
// the admins' rule already references the resource's group.
const flowPolicy = `// example.com tailnet
{
	"groups": {
		"group:jit-prod-db": [],
	},
	"acls": [
		// Just-in-time access to the production database.
		{"action": "accept", "src": ["group:jit-prod-db"], "dst": ["tag:prod-db:5432"]},
	],
	"tagOwners": {"tag:prod-db": ["autogroup:admin"]},
}
`

// flowPortal is the portal as it runs: the real clock, sign-in through the
// simulated Okta, and the real reconciler writing the simulated tailnet's
// policy, woken by the portal.
type flowPortal struct {
	url     string
	db      *database.DB
	okta    *oktafake.Server
	tailnet *tailnetfake.Server
	rec     *reconcile.Reconciler
}

func newFlowPortal(t *testing.T, db *database.DB) *flowPortal {
	t.Helper()
	tsFake, tsURL, closeTailnet, err := tailnetfake.Start(tailnetfake.Options{APIKeys: []string{"tskey-api-flow"}, Policy: []byte(flowPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeTailnet)
	tailnet, err := tailnet.New(tailnet.Config{APIURL: tsURL, Tailnet: "-", APIKey: "tskey-api-flow"})
	if err != nil {
		t.Fatal(err)
	}
	okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeOkta)
	cat, err := grants.ParseCatalog("jit.hujson", []byte(jitCatalog))
	if err != nil {
		t.Fatal(err)
	}
	catalog := func() *grants.Catalog { return cat }
	dbtest.MarkDirectoryRead(t, db)
	rec := reconcile.New(reconcile.Options{Store: grants.NewStore(db), Catalog: catalog, Policy: tailnet, MinInterval: time.Millisecond})

	ts := servePortal(t, web.Options{
		DB: db, Catalog: catalog, Wake: rec.Wake,
		OIDC: &web.OIDCConfig{Issuer: oktaURL, ClientID: "portal", ClientSecret: "s3cret"},
		Policy: func(ctx context.Context) ([]byte, error) {
			p, err := tailnet.ReadPolicy(ctx)
			return p.Text, err
		},
	})
	okta.AddClient(oktafake.Client{ID: "portal", Secret: "s3cret", RedirectURIs: []string{ts.URL + "/auth/callback"}})
	for i, person := range jitPeople {
		okta.AddUser(oktafake.User{ID: fmt.Sprintf("u%d", i), Login: email(person.name), Email: email(person.name), FirstName: strings.ToUpper(person.name[:1]) + person.name[1:]})
		addUser(t, db, fmt.Sprintf("u%d", i), email(person.name), person.status, person.groups...)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var loop gosync.WaitGroup
	loop.Go(func() { rec.Run(ctx) })
	t.Cleanup(func() { cancel(); loop.Wait() })
	return &flowPortal{url: ts.URL, db: db, okta: okta, tailnet: tsFake, rec: rec}
}

// waitForPass waits, reconciler pass by reconciler pass, until cond holds.
func (f *flowPortal) waitForPass(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		passed := f.rec.WaitPass()
		if cond() {
			return
		}
		select {
		case <-passed:
		case <-deadline:
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// browserSignIn signs who in from the anonymous landing page through the
// simulated Okta's user picker, and waits for their page.
func browserSignIn(t *testing.T, ctx context.Context, base, who string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.Click(chromedp.CSS(`main a.button.primary[href="/login?next=/"]`)),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[data-login=%q]`, email(who)))),
		chromedp.WaitVisible(chromedp.CSS(`main .whoami`)),
	)
	if err != nil {
		t.Fatalf("signing %s in: %v", who, err)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`header .muted`))); got != email(who) {
		t.Fatalf("signed in as %q, want %s", got, email(who))
	}
}

// browserSignOut signs out and waits for the anonymous landing page.
func browserSignOut(t *testing.T, ctx context.Context) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`main a.button.primary[href="/login?next=/"]`)),
	)
	if err != nil {
		t.Fatalf("signing out: %v", err)
	}
}

// screenshots saves full-page screenshots of the main pages to a folder
// that outlives the test, and logs their paths.
type screenshots struct {
	dir string
}

func newScreenshots(t *testing.T) *screenshots {
	dir, err := os.MkdirTemp("", "portal-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	return &screenshots{dir: dir}
}

func (s *screenshots) take(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(s.dir, strings.ReplaceAll(t.Name(), "/", "-")+"-"+name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Errorf("saving screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", p)
}

// TestBrowserRequestApproveFlow drives the main flow in Chromium: an
// engineer requests a resource with a reason, an approver approves it from
// the inbox (seeing the policy lines the grant affects), the real
// reconciler writes the tailnet policy, and the engineer's page shows the
// grant active in the tailnet with a live countdown. The reason, which
// holds a <script> tag, is shown as text everywhere.
func TestBrowserRequestApproveFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := newBrowser(t)
		f := newFlowPortal(t, db)
		shots := newScreenshots(t)
		css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
			t.Fatal(err)
		}

		// bob, an engineer, asks for the production database for 2h.
		browserSignIn(t, ctx, f.url, "bob")
		err := chromedp.Do(ctx,
			chromedp.Click(css(`header nav a[href="/resources"]`)),
			chromedp.Click(css(`a[href="/resources/prod-db/request"]`)),
			chromedp.WaitVisible(css(`form.request-form`)),
			chromedp.SetValue(css(`#duration`), "2h"),
			chromedp.SendKeys(css(`#reason`), scriptReason),
		)
		if err != nil {
			t.Fatal(err)
		}
		shots.take(t, ctx, "1-request-form")
		if err := chromedp.Do(ctx, chromedp.Click(css(`form.request-form button[type="submit"]`)), chromedp.WaitVisible(css(`h1 .badge.status`))); err != nil {
			t.Fatal(err)
		}
		var req grants.Request
		if err := db.Where("requester = ?", email("bob")).Take(&req).Error; err != nil {
			t.Fatalf("no request stored: %v", err)
		}
		heading, _ := chromedp.Run(ctx, chromedp.Text(css(`main h1`)))
		flash, _ := chromedp.Run(ctx, chromedp.Text(css(`.banner.ok`)))
		reason, _ := chromedp.Run(ctx, chromedp.Text(css(`main blockquote.reason`)))
		scripts, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("main script").length`))
		if heading != fmt.Sprintf("Request #%d: prod-db pending", req.ID) || !strings.Contains(flash, "was sent to the approvers") ||
			reason != scriptReason || scripts != 0 || req.Reason != scriptReason || req.DurationSeconds != 7200 {
			t.Errorf("request page: heading %q, flash %q, reason %q, %d script elements; stored %+v", heading, flash, reason, scripts, req)
		}
		shots.take(t, ctx, "2-request")
		browserSignOut(t, ctx)

		// carol, of Security, approves it from her inbox.
		browserSignIn(t, ctx, f.url, "carol")
		card := fmt.Sprintf(`article#request-%d`, req.ID)
		if err := chromedp.Do(ctx, chromedp.Click(css(`header nav a[href="/approvals"]`)), chromedp.WaitVisible(css(card))); err != nil {
			t.Fatal(err)
		}
		cardText, _ := chromedp.Run(ctx, chromedp.Text(css(card)))
		preview, _ := chromedp.Run(ctx, chromedp.Text(css(card+` pre.policy .line.ref`)))
		for _, want := range []string{"bob@example.com", "Okta groups: Engineering", scriptReason, "prod-db for 2h", "bob@example.com joins group:jit-prod-db"} {
			if !strings.Contains(cardText, want) {
				t.Errorf("inbox card lacks %q:\n%s", want, cardText)
			}
		}
		if !strings.Contains(preview, `"group:jit-prod-db"`) {
			t.Errorf("policy preview's first referencing line = %q", preview)
		}
		shots.take(t, ctx, "3-inbox")
		err = chromedp.Do(ctx,
			chromedp.SendKeys(css(fmt.Sprintf(`#approve-%d`, req.ID)), "ok for INC-77"),
			chromedp.Click(css(fmt.Sprintf(`form[action="/requests/%d/approve"] button`, req.ID))),
			chromedp.WaitVisible(css(`.banner.ok`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		if flash, _ := chromedp.Run(ctx, chromedp.Text(css(`.banner.ok`))); !strings.Contains(flash, fmt.Sprintf("You approved request #%d", req.ID)) {
			t.Errorf("after approving: %q", flash)
		}
		browserSignOut(t, ctx)

		// The reconciler puts bob into the group and confirms the grant.
		var g grants.Grant
		f.waitForPass(t, "the grant is applied to the tailnet", func() bool {
			return db.Where("request_id = ? AND applied_at IS NOT NULL", req.ID).Limit(1).Find(&g).Error == nil && g.ID != 0
		})
		policy, _ := f.tailnet.Policy()
		groups, err := policyfile.ReadGroups(policy)
		if err != nil || !slices.Contains(groups["group:jit-prod-db"], "bob@example.com") {
			t.Errorf("tailnet policy groups = %v, %v", groups, err)
		}

		// bob sees it active in the tailnet, with the time left counting down.
		browserSignIn(t, ctx, f.url, "bob")
		row := fmt.Sprintf(`tr#grant-%d`, g.ID)
		if err := chromedp.Do(ctx, chromedp.WaitVisible(css(row))); err != nil {
			t.Fatal(err)
		}
		rowText, _ := chromedp.Run(ctx, chromedp.Text(css(row)))
		if !strings.Contains(rowText, "prod-db") || !strings.Contains(rowText, "active in the tailnet") ||
			!regexp.MustCompile(`(2h 0m|1h 59m) left`).MatchString(rowText) {
			t.Errorf("bob's active grant row: %q", rowText)
		}
		shots.take(t, ctx, "4-my-access")
		// static/app.js keeps the countdown live (under the strict CSP).
		soon := time.Now().Add(90 * time.Second).UTC().Format(time.RFC3339)
		err = chromedp.Do(ctx,
			chromedp.SetAttributeValue(css(row+` time[data-countdown]`), "datetime", soon),
			chromedp.Poll[chromedp.Void](`/^1m \d+s left$/.test(document.querySelector("`+row+` time[data-countdown]").textContent)`,
				chromedp.WithPollingTimeout(10*time.Second)),
		)
		if err != nil {
			left, _ := chromedp.Run(ctx, chromedp.Text(css(row+` time[data-countdown]`)))
			t.Errorf("countdown did not follow its datetime: %q, %v", left, err)
		}
	})
}
