package reconcile

import (
	"testing"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// strandingPolicy is a tailnet policy with a hand-written section the
// portal must leave alone.
const strandingPolicy = `{
  // Written by hand.
  "groups": {
    "group:ops": ["ops@example.com"],
  },
  "acls": [{"action": "accept", "src": ["group:jit-db"], "dst": ["db:5432"]}],
}
`

// TestRemovedResourceStaysManagedUntilRemovalConfirmed: a resource leaves
// the catalog while its grant is active; the grant is then revoked. The
// grantee must still leave the Tailscale group (the group stays managed,
// as retired) and the grant's removedAt is stamped; only then is the group
// let go of, so that a later hand edit of it is nobody's drift.
func TestRemovedResourceStaysManagedUntilRemovalConfirmed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		with, err := grants.ParseCatalog("with", []byte(`{"admins": ["Admins"], "resources": {"db": {"group": "group:jit-db"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		without, err := grants.ParseCatalog("without", []byte(`{"admins": ["Admins"]}`))
		if err != nil {
			t.Fatal(err)
		}
		recUser(t, db, "dana", "dana@example.com", grants.StatusActive)
		id := recGrant(t, db, "db", "group:jit-db", "dana@example.com", grants.GrantActive, recEpoch)
		e := newRecEnv(t, db, []byte(strandingPolicy), with)
		e.pass()
		e.wantGroup("group:jit-db", []string{"dana@example.com"})

		// The resource leaves the catalog; its grant still runs.
		e.catalog.Store(without)
		e.pass()
		e.wantGroup("group:jit-db", []string{"dana@example.com"})

		// The grant is revoked: the retired group is emptied and the
		// removal is confirmed.
		if err := db.Model(&grants.Grant{}).Where("id = ?", id).Update("status", grants.GrantRevoked).Error; err != nil {
			t.Fatal(err)
		}
		e.pass()
		e.wantGroup("group:jit-db", nil)
		if g := recGetGrant(t, db, id); g.RemovedAt == nil {
			t.Fatalf("grant %d has no removedAt after its removal was written", id)
		}
		e.wantGroup("group:ops", []string{"ops@example.com"})

		// Now the group is no longer managed: a hand edit stays.
		writes := e.fake.Writes()
		e.pass()
		if e.fake.Writes() != writes {
			t.Errorf("a pass after the removal was confirmed wrote the policy again")
		}
		if applied, err := grants.NewStore(db).AppliedGroups(e.ctx); err != nil {
			t.Fatal(err)
		} else if _, ok := applied["group:jit-db"]; ok {
			t.Errorf("group:jit-db is still recorded as managed after its last grant's removal was confirmed")
		}
	})
}
