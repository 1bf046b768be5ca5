package reconcile

import (
	"slices"
	"strings"
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
  "acls": [{"action": "accept", "src": ["group:ops"], "dst": ["db:5432"]}],
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
		res := e.pass()
		e.wantGroup("group:jit-db", []string{"dana@example.com"})
		if !slices.ContainsFunc(res.Warnings, func(w string) bool {
			return strings.HasPrefix(w, "group:jit-db: no longer in the catalog; kept managed, as retired")
		}) {
			t.Errorf("warnings %q do not say group:jit-db is kept as retired", res.Warnings)
		}

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

// TestRemappedGroupIsNotEmptiedBeforeOktaIsRead: a synced Tailscale group
// re-mapped to an Okta group no poll has read yet keeps its members (it is
// not written at all) until a poll has read the new group; then it follows
// it, and a group read empty is emptied.
func TestRemappedGroupIsNotEmptiedBeforeOktaIsRead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		parse := func(text string) *grants.Catalog {
			c, err := grants.ParseCatalog("c", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		recGroup(t, db, "g-eng", "Engineering")
		recGroupUnread(t, db, "g-eng2", "Engineering 2")
		recGroupUnread(t, db, "g-none", "Nobody")
		recUser(t, db, "ann", "ann@example.com", grants.StatusActive)
		recUser(t, db, "ben", "ben@example.com", grants.StatusActive)
		recMember(t, db, "g-eng", "ann", "ben")
		e := newRecEnv(t, db, []byte(strandingPolicy), parse(`{"admins": ["Admins"], "groups": {"group:eng": "Engineering"}}`))
		e.pass()
		e.wantGroup("group:eng", []string{"ann@example.com", "ben@example.com"})

		// Re-mapped: the new Okta group's members are not read yet.
		e.catalog.Store(parse(`{"admins": ["Admins"], "groups": {"group:eng": "Engineering 2"}}`))
		res := e.pass()
		e.wantGroup("group:eng", []string{"ann@example.com", "ben@example.com"})
		if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, `"Engineering 2" not read yet`) }) {
			t.Errorf("warnings %q do not say the Okta group is not read yet", res.Warnings)
		}

		// A poll reads both Okta groups: Engineering 2 holds ben alone,
		// Nobody holds nobody.
		store := grants.NewStore(db)
		meta, err := store.DirectoryMeta(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		read := grants.NewDirectoryRead()
		read.Members["g-eng2"] = []string{"ben"}
		read.Tracked["g-eng2"], read.Tracked["g-none"] = true, true
		if _, err := store.ApplyDirectoryRead(e.ctx, meta, read, false, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.pass()
		e.wantGroup("group:eng", []string{"ben@example.com"})

		// Mapped to a group read empty: emptied, as Okta says.
		e.catalog.Store(parse(`{"admins": ["Admins"], "groups": {"group:eng": "Nobody"}}`))
		e.pass()
		e.wantGroup("group:eng", nil)
	})
}
