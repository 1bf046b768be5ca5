package web_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestBrowserPagesKeepUp: times show in the viewer's zone with a relative
// time and UTC on hover, and a pending request's page follows its
// approval, made elsewhere, without a reload.
func TestBrowserPagesKeepUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := newBrowser(t)
		p := newCatalogPortal(t, db, false)
		store := grants.NewStore(db)
		cat := p.current(t)
		bob, err := store.LookupPerson(t.Context(), email("bob"))
		if err != nil {
			t.Fatal(err)
		}
		adam, err := store.LookupPerson(t.Context(), email("adam"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := store.CreateRequest(t.Context(), cat, bob, grants.RequestInput{Resource: "prod-db", Duration: time.Hour, Reason: "INC-9"}, p.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
		err = chromedp.Do(ctx,
			chromedp.Navigate(p.srv.URL+idPath("/login?next=/requests/%d", r.ID)),
			chromedp.Click(css(`button[data-login="bob@example.com"]`)),
			chromedp.WaitVisible(css(`h1 .badge.status`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		asked, _ := chromedp.Run(ctx, chromedp.Text(css(`table.request-facts time[data-local]`)))
		title, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("table.request-facts time[data-local]").title`))
		// Pages print minutes: the request, made now, was asked "just now"
		// or, late in a minute, "1 min ago".
		if !regexp.MustCompile(`\((just now|1 min ago)\)$`).MatchString(asked) || strings.Contains(asked, "UTC") ||
			!regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`).MatchString(title) {
			t.Errorf("the request's time reads %q, titled %q", asked, title)
		}

		// adam approves elsewhere; bob's open page follows.
		if _, err := store.ApproveRequest(t.Context(), cat, r.ID, adam, "ok", p.clock.Now()); err != nil {
			t.Fatal(err)
		}
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("h1 .badge.status").textContent === "approved"`,
			chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil {
			status, _ := chromedp.Run(ctx, chromedp.Text(css(`h1 .badge.status`)))
			t.Fatalf("the request page did not follow the approval: status %q, %v", status, err)
		}
		grant, _ := chromedp.Run(ctx, chromedp.Text(css(`.card.grant`)))
		left, _ := chromedp.Run(ctx, chromedp.Text(css(`.card.grant time[data-countdown]`)))
		if !strings.Contains(grant, "Grant #") || !strings.HasSuffix(left, "left") {
			t.Errorf("after the refresh the grant reads %q (countdown %q)", grant, left)
		}
	})
}
