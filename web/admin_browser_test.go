package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// An admin signs in, finds a grant on the access page and revokes it with
// a reason, in headless Chromium against the running server.
func TestBrowserAdminRevokesAGrant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := newBrowser(t)
		f := newAdminFixture(t, db)
		g := f.addGrant(t, "prod-db", "bob@example.com", nil, "sam@example.com", `deploy <script>alert(1)</script>`, true)
		row := fmt.Sprintf(`tr[data-grant="%d"]`, g.ID)
		css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

		err := chromedp.Do(ctx,
			chromedp.Navigate(f.srv.URL+"/login?next=/admin/access"),
			// The simulated Okta's user picker.
			chromedp.Click(css(`button[data-login="alice@example.com"]`)),
			chromedp.WaitVisible(css(row)),
		)
		if err != nil {
			t.Fatal(err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(css(row)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "bob@example.com") || !strings.Contains(text, "admin grant by sam@example.com") || !strings.Contains(text, "<script>alert(1)</script>") {
			t.Errorf("grant row reads %q", text)
		}
		// The countdown script runs under the strict CSP.
		left, _ := chromedp.Run(ctx, chromedp.Text(css(row+` time[data-countdown]`)))
		if !strings.HasSuffix(left, "left") && left != "expired" {
			t.Errorf("countdown reads %q", left)
		}

		// Revoking asks first: the form opens from its summary.
		err = chromedp.Do(ctx,
			chromedp.Click(css(row+` details.confirm summary`)),
			chromedp.SendKeys(css(row+` input[name="reason"]`), "left the team"),
			chromedp.Click(css(row+` button[type="submit"]`)),
			chromedp.WaitVisible(css(`main .banner[role="status"]`)),
			chromedp.WaitNotPresent(css(row)),
		)
		if err != nil {
			t.Fatal(err)
		}
		banner, _ := chromedp.Run(ctx, chromedp.Text(css(`main .banner[role="status"]`)))
		if !strings.Contains(banner, fmt.Sprintf("Grant %d revoked", g.ID)) {
			t.Errorf("after revoking, the banner reads %q", banner)
		}
		got, err := grants.NewStore(db).GetGrant(t.Context(), g.ID)
		if err != nil || got.Status != grants.GrantRevoked || got.RevokedBy != "alice@example.com" || got.RevokeReason != "left the team" {
			t.Errorf("grant after the browser's revoke = %+v, %v", got, err)
		}
	})
}
