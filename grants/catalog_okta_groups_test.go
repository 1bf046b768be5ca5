package grants_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestCatalogOktaGroupCheck: who judges a name the catalog newly names, on
// the way every catalog change takes (CatalogStore.Replace).
func TestCatalogOktaGroupCheck(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		st, err := grants.NewStore(db).OpenCatalogStore(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		replace := func(admins string) error {
			_, err := st.Replace(ctx, "catalog.hujson", []byte("{\n  \"admins\": ["+admins+"],\n}\n"), "", "cli", now)
			return err
		}
		okta := map[string]bool{"Portal Admins": true}
		var oktaDown error
		asked := 0
		lookup := func(_ context.Context, name string) (bool, error) {
			asked++
			return okta[name], oktaDown
		}

		// Nothing read from Okta and nobody to ask: nothing can be judged.
		if err := replace(`"Typo"`); err != nil {
			t.Errorf("before any read, without a lookup: %v", err)
		}
		// Okta itself says no.
		st.SetOktaGroupLookup(lookup)
		err = replace(`"Typo", "Other"`)
		if want := `catalog.hujson:2: admins[1]: Okta group "Other" is not in the Okta directory`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("before any read, Okta says no: %v, want %q", err, want)
		}
		// "Typo" was in the catalog already: not asked again.
		if asked != 1 {
			t.Errorf("Okta was asked %d times, want once (for Other)", asked)
		}
		// Okta cannot be asked and nothing was read: let it through.
		oktaDown = errors.New("HTTP 503")
		if err := replace(`"Typo", "Other"`); err != nil {
			t.Errorf("before any read, Okta down: %v", err)
		}
		// Once read, the snapshot judges; Okta down is said.
		dbtest.MarkDirectoryRead(t, db)
		if err := db.Create(&grants.DirectoryGroup{ID: "g1", Name: "Security", SyncedAt: now}).Error; err != nil {
			t.Fatal(err)
		}
		if err := replace(`"Typo", "Other", "Security"`); err != nil {
			t.Errorf("a group the snapshot has: %v", err)
		}
		err = replace(`"Typo", "Other", "Securty"`)
		if want := `admins[2]: Okta group "Securty" is not in the Okta directory; check its spelling (names are exact, case included) (Okta could not be asked: HTTP 503)`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("after a read, Okta down: %v, want %q", err, want)
		}
	})
}
