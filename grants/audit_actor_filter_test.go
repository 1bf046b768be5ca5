package grants_test

import (
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// The actor filter matches part of an actor, as the admin pages' other
// person filters do; LIKE's wildcards in it are taken literally.
func TestAuditActorFilterMatchesSubstrings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		appendFilterEvents(t, db, start, 10)
		for actor, want := range map[string]int{"bob": 5, "@example.com": 5, "sys": 5, "e": 10, "%": 0, "_": 0, "carol": 0} {
			page, err := grants.NewStore(db).ListAuditPage(t.Context(), grants.AuditPageQuery{AuditFilter: grants.AuditFilter{Actor: actor}})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) != want {
				t.Errorf("actor %q: %d events, want %d", actor, len(page.Events), want)
			}
		}
	})
}
