package web_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Chromium, or skips the test saying why.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: %s not found (apt-get install chromium)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

func TestBrowserSignInShowsTheUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := newBrowser(t)
		p := newOIDCPortal(t, db)
		p.okta.AddUser(oktafake.User{ID: "u1", Login: "alice@example.com", Email: "alice@example.com", FirstName: "Alice", LastName: "Admin"})
		p.okta.AddUser(oktafake.User{Login: "bob@example.com", Email: "bob@example.com", FirstName: "Bob", LastName: "Builder"})
		addUser(t, db, "u1", "alice@example.com", grants.StatusActive, "Engineering", "Portal Admins")

		css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
		err := chromedp.Do(ctx,
			chromedp.Navigate(p.srv.URL+"/"),
			chromedp.Click(css(`a.button.primary`)),
			// The simulated Okta's user picker.
			chromedp.Click(css(`button[data-login="alice@example.com"]`)),
			chromedp.WaitVisible(css(`header.top .brand`)),
		)
		if err != nil {
			t.Fatal(err)
		}
		heading, _ := chromedp.Run(ctx, chromedp.Text(css(`main h1`)))
		body, _ := chromedp.Run(ctx, chromedp.Text(css(`main`)))
		if heading != "User u1" || !strings.Contains(body, "alice@example.com") || !strings.Contains(body, "Engineering, Portal Admins") {
			t.Errorf("after sign-in: heading %q, page %q", heading, body)
		}
		// Admins see the dashboard link; signing out returns to the anonymous page.
		nav, err := chromedp.Run(ctx, chromedp.Text(css(`header nav`)))
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Click(css(`header form button`)), chromedp.WaitVisible(css(`a.button.primary`))); err != nil {
			t.Fatal(err)
		}
		body, _ = chromedp.Run(ctx, chromedp.Text(css(`main`)))
		if !strings.Contains(nav, "Admin") || !strings.Contains(body, "Sign in with Okta") {
			t.Errorf("nav %q; after sign-out %q", nav, body)
		}
	})
}
