package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// phonePages are the main pages, each of which must fit a phone.
var phonePages = []string{
	"/", "/resources", "/resources/prod-db/request", "/requests/%[1]d", "/grants/%[2]d", "/approvals", "/requests", "/tokens",
	"/admin", "/admin/access", "/admin/requests", "/admin/offboarding", "/admin/audit", "/admin/tokens",
	"/admin/catalog", "/admin/catalog/resources/prod-db", "/admin/catalog/resources/prod-db/edit",
	"/admin/catalog/groups/group:eng", "/admin/catalog/groups/group:eng/edit", "/admin/catalog/groups/group:eng/remove",
	"/admin/catalog/new-group", "/admin/catalog/new-resource", "/admin/catalog/admins/edit",
}

// overflowing lists the elements that reach past the right edge of the
// window, for the failure message.
const overflowing = `Array.from(document.querySelectorAll("body *")).filter(function (e) {
	var r = e.getBoundingClientRect();
	return r.right > window.innerWidth + 0.5 && getComputedStyle(e).position !== "absolute";
}).slice(0, 8).map(function (e) { return e.tagName.toLowerCase() + (e.className ? "." + String(e.className).replace(/ /g, ".") : "") + " (" + Math.round(e.getBoundingClientRect().right) + "px)"; }).join(", ")`

// TestBrowserPagesFitAPhone loads every main page at 390×844 CSS pixels,
// with a pending request, an active grant and an unbroken long reason on
// them, and checks that none scrolls sideways: the navigation wraps,
// tables stack or scroll in their own box, forms fit.
func TestBrowserPagesFitAPhone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := newBrowser(t)
		p := newCatalogPortal(t, db, false)
		grant, pending := phoneFixture(t, p, db)

		if err := chromedp.Do(ctx,
			chromedp.EmulateViewport(390, 844),
			chromedp.Navigate(p.srv.URL+"/login?next=/"),
			chromedp.Click(chromedp.CSS(`button[data-login="alice@example.com"]`)),
			chromedp.WaitVisible(chromedp.CSS(`main .whoami`)),
		); err != nil {
			t.Fatal(err)
		}
		for _, scheme := range []string{"light", "dark"} {
			colorScheme(t, ctx, scheme)
			for _, path := range phonePages {
				if strings.Contains(path, "%") {
					path = fmt.Sprintf(path, pending, grant)
				}
				if err := chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+path), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
					t.Fatalf("%s (%s): %v", path, scheme, err)
				}
				fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
				if err != nil {
					t.Fatal(err)
				}
				if !fits {
					width, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
					wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](overflowing))
					t.Errorf("%s (%s) is %d px wide at 390 px; too wide: %s", path, scheme, width, wide)
				}
			}
		}
		if dir := os.Getenv("PORTAL_SCREENSHOTS"); dir != "" && strings.HasSuffix(t.Name(), "sqlite") {
			takeScreens(t, ctx, p.srv.URL, dir)
		}
	})
}

// phoneFixture gives alice (admin, engineer and approver) an active grant
// of prod-db and has bob ask for it: their ids.
func phoneFixture(t *testing.T, p *catalogPortal, db *database.DB) (grant, pending int64) {
	t.Helper()
	ctx := t.Context()
	store := grants.NewStore(db)
	cat := p.current(t)
	person := func(name string) *grants.Person {
		who, err := store.LookupPerson(ctx, email(name))
		if err != nil {
			t.Fatal(err)
		}
		return who
	}
	alice, bob, adam := person("alice"), person("bob"), person("adam")
	long := "incident-" + strings.Repeat("0123456789", 12) + " needs a look at the replication lag on the primary"
	mine, err := store.CreateRequest(ctx, cat, alice, grants.RequestInput{Resource: "prod-db", Duration: 2 * time.Hour, Reason: long}, p.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	approved, err := store.ApproveRequest(ctx, cat, mine.ID, adam, "ok "+long, p.clock.Now())
	if err != nil || approved.Grant == nil {
		t.Fatalf("approving alice's request: %+v, %v", approved, err)
	}
	theirs, err := store.CreateRequest(ctx, cat, bob, grants.RequestInput{Resource: "prod-db", Duration: time.Hour, Reason: long}, p.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return approved.Grant.ID, theirs.ID
}

// takeScreens saves phone and desktop screenshots of the home page, the
// inbox and the admin overview, light and dark, to dir.
func takeScreens(t *testing.T, ctx context.Context, base, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sizes := []struct {
		name          string
		width, height int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}}
	pages := map[string]string{"home": "/", "inbox": "/approvals", "admin": "/admin", "access": "/admin/access", "audit": "/admin/audit", "catalog": "/admin/catalog/resources/prod-db", "catalog-edit": "/admin/catalog/resources/prod-db/edit?kind=resource&name=prod-db&rgroup=group:jit-prod-db&eligible=Engineering&approvers=Portal+Admins&q-approvers=s"}
	for _, scheme := range []string{"light", "dark"} {
		for _, size := range sizes {
			for name, path := range pages {
				colorScheme(t, ctx, scheme)
				err := chromedp.Do(ctx,
					chromedp.EmulateViewport(size.width, size.height),
					chromedp.Navigate(base+path),
					chromedp.WaitVisible(chromedp.CSS(`main h1`)),
				)
				if err != nil {
					t.Fatalf("screenshot of %s: %v", path, err)
				}
				for kind, shot := range map[string]chromedp.Action[[]byte]{"": chromedp.FullScreenshot(100), "-top": chromedp.CaptureScreenshot()} {
					png, err := chromedp.Run(ctx, shot)
					if err != nil {
						t.Fatalf("screenshot of %s: %v", path, err)
					}
					file := filepath.Join(dir, fmt.Sprintf("%s-%s-%s%s.png", name, size.name, scheme, kind))
					if err := os.WriteFile(file, png, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
}

// colorScheme makes the page's prefers-color-scheme light or dark.
func colorScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	if err != nil {
		t.Fatalf("emulating %s mode: %v", scheme, err)
	}
}
