package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestBrowserCatalog drives the catalog pages in Chromium in both modes:
// from a file they are read-only; from the database an admin adds a
// synced group (the Okta group found by search as you type), sees the
// policy diff, saves, and the simulated tailnet's policy follows.
func TestBrowserCatalog(t *testing.T) {
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	t.Run("database", func(t *testing.T) {
		dbtest.Each(t, func(t *testing.T, db *database.DB) {
			ctx := newBrowser(t)
			p := newCatalogPortal(t, db, false)
			p.waitPolicy(t, "group:eng", []string{"alice@example.com", "bob@example.com"})

			err := chromedp.Do(ctx,
				chromedp.Navigate(p.srv.URL+"/login?next=/admin/catalog"),
				chromedp.Click(css(`button[data-login="alice@example.com"]`)),
				chromedp.WaitVisible(css(`table.catalog-groups`)),
				chromedp.Click(css(`#add-group`)),
				chromedp.WaitVisible(css(`#group-form`)),
				chromedp.SendKeys(css(`#group`), "group:sre"),
				chromedp.SendKeys(css(`#q`), "sr"),
			)
			if err != nil {
				t.Fatal(err)
			}
			// The choices follow the search box (static/catalog.js).
			_, err = chromedp.Run(ctx, chromedp.Poll[bool](
				`document.querySelector('input[name=okta][value="SRE"]') !== null && document.querySelector('input[name=okta][value="Engineering"]') === null`,
				chromedp.WithPollingTimeout(10*time.Second)))
			if err != nil {
				choices, _ := chromedp.Run(ctx, chromedp.Text(css(`#okta-choices`)))
				t.Fatalf("the search did not narrow the choices to SRE: %v; choices %q", err, choices)
			}
			err = chromedp.Do(ctx,
				chromedp.Click(css(`input[name=okta][value="SRE"]`)),
				chromedp.Click(css(`#preview`)),
				chromedp.WaitVisible(css(`#policy-diff`)),
			)
			if err != nil {
				t.Fatal(err)
			}
			diff, _ := chromedp.Run(ctx, chromedp.Text(css(`#policy-diff`)))
			summary, _ := chromedp.Run(ctx, chromedp.Text(css(`ul.catalog-summary`)))
			if !strings.Contains(diff, `"group:sre"`) || !strings.Contains(diff, "carol@example.com") || !strings.Contains(summary, `group:sre follows Okta group "SRE"`) {
				t.Errorf("preview: diff %q, summary %q", diff, summary)
			}
			if _, ok := p.policyGroups(t)["group:sre"]; ok {
				t.Error("the policy changed before saving")
			}
			err = chromedp.Do(ctx, chromedp.Click(css(`#save`)), chromedp.WaitVisible(css(`.catalog-flash`)))
			if err != nil {
				t.Fatal(err)
			}
			flash, _ := chromedp.Run(ctx, chromedp.Text(css(`.catalog-flash`)))
			if !strings.Contains(flash, "Saved.") {
				t.Errorf("after saving: %q", flash)
			}
			p.waitPolicy(t, "group:sre", []string{"bob@example.com", "carol@example.com"})

			// Two admins edit prod-db: the second to save gets a conflict
			// with the first one's version, and keeps what they typed.
			err = chromedp.Do(ctx,
				chromedp.Navigate(p.srv.URL+"/admin/catalog/resources/prod-db/edit"),
				chromedp.WaitVisible(css(`#resource-form`)),
				chromedp.SetValue(css(`#maxDuration`), "2h"),
			)
			if err != nil {
				t.Fatal(err)
			}
			adam := p.admin(t, "adam")
			_, page := p.page(t, adam, "/admin/catalog/resources/prod-db/edit")
			form := formValues(t, page, "resource-form")
			form.Set("description", "Production Aurora Postgres")
			if code, _, _ := p.post(t, adam, "/admin/catalog/save", form); code != 303 {
				t.Fatalf("adam saves = %d", code)
			}
			err = chromedp.Do(ctx, chromedp.Click(css(`#save`)), chromedp.WaitVisible(css(`.catalog-conflict`)))
			if err != nil {
				t.Fatal(err)
			}
			conflict, _ := chromedp.Run(ctx, chromedp.Text(css(`.catalog-conflict`)))
			kept, _ := chromedp.Run(ctx, chromedp.Value(css(`#maxDuration`)))
			if !strings.Contains(conflict, "adam@example.com changed this") || !strings.Contains(conflict, "description: Production Aurora Postgres") || kept != "2h" {
				t.Errorf("conflict %q, maxDuration kept %q", conflict, kept)
			}
			if r := p.current(t).Resources["prod-db"]; r.Description != "Production Aurora Postgres" || r.MaxDuration != 4*time.Hour {
				t.Errorf("after the conflict prod-db = %+v", r)
			}

			// Every Okta group list is a directory picker: typing finds the
			// group, a click chooses it, and the preview says that no rule
			// of the policy names the resource's group yet.
			err = chromedp.Do(ctx,
				chromedp.Navigate(p.srv.URL+"/admin/catalog/resources/prod-db/edit"),
				chromedp.WaitVisible(css(`#resource-form`)),
				chromedp.SendKeys(css(`#q-approvers`), "sr"),
			)
			if err != nil {
				t.Fatal(err)
			}
			_, err = chromedp.Run(ctx, chromedp.Poll[bool](
				`document.querySelector('#okta-choices-approvers input[value="SRE"]:not(:checked)') !== null && document.querySelector('#okta-choices-approvers input[value="Portal Admins"]:checked') !== null`,
				chromedp.WithPollingTimeout(10*time.Second)))
			if err != nil {
				choices, _ := chromedp.Run(ctx, chromedp.Text(css(`#okta-choices-approvers`)))
				t.Fatalf("the approvers search did not offer SRE beside the chosen Portal Admins: %v; choices %q", err, choices)
			}
			err = chromedp.Do(ctx,
				chromedp.Click(css(`#okta-choices-approvers input[value="SRE"]`)),
				chromedp.Click(css(`#preview`)),
				chromedp.WaitVisible(css(`ul.catalog-summary`)),
			)
			if err != nil {
				t.Fatal(err)
			}
			summary, _ = chromedp.Run(ctx, chromedp.Text(css(`ul.catalog-summary`)))
			notes, _ := chromedp.Run(ctx, chromedp.Text(css(`main`)))
			if !strings.Contains(summary, "approvers Portal Admins → Portal Admins, SRE") || !strings.Contains(notes, "No rule of the tailnet policy names group:jit-prod-db") {
				t.Errorf("preview after choosing SRE: summary %q, page %q", summary, notes)
			}
		})
	})

	t.Run("file", func(t *testing.T) {
		dbtest.Each(t, func(t *testing.T, db *database.DB) {
			ctx := newBrowser(t)
			p := newCatalogPortal(t, db, true)
			err := chromedp.Do(ctx,
				chromedp.Navigate(p.srv.URL+"/login?next=/admin/catalog"),
				chromedp.Click(css(`button[data-login="alice@example.com"]`)),
				chromedp.WaitVisible(css(`.catalog-readonly`)),
			)
			if err != nil {
				t.Fatal(err)
			}
			banner, _ := chromedp.Run(ctx, chromedp.Text(css(`.catalog-readonly`)))
			main, _ := chromedp.Run(ctx, chromedp.Text(css(`main`)))
			if !strings.Contains(banner, "Managed in FILE "+p.file) || !strings.Contains(main, "prod-db") || !strings.Contains(main, "group:eng") {
				t.Errorf("file mode: banner %q, page %q", banner, main)
			}
			forms, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#add-group, #add-resource, form[action="/admin/catalog/save"]').length`))
			if err != nil || forms != 0 {
				t.Errorf("file mode offers %d edit controls (%v)", forms, err)
			}
			// Typing the address of a form anyway is refused.
			err = chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+"/admin/catalog/new-group"), chromedp.WaitVisible(css(`main`)))
			if err != nil {
				t.Fatal(err)
			}
			refused, _ := chromedp.Run(ctx, chromedp.Text(css(`main`)))
			if !strings.Contains(refused, "managed in FILE "+p.file) {
				t.Errorf("new-group in file mode shows %q", refused)
			}
		})
	})
}
