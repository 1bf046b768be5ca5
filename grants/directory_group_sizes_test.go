package grants_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// The synced groups' sizes the admin pages show follow every write of the
// directory snapshot: polls, hooks' re-reads of one user, deleted users.
// Each is checked against the members the access page lists.
func TestSyncedGroupSizesFollowTheSnapshot(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		store := grants.NewStore(db)
		cat := &grants.Catalog{Groups: map[string]string{"group:eng": "Engineering", "group:sre": "SRE"}}
		now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		user := func(id, email, status string) grants.DirectoryUser {
			return grants.DirectoryUser{ID: id, Login: id + "@login", Email: email, Name: "User " + id, Status: status}
		}
		poll := func(users []grants.DirectoryUser, members map[string][]string) {
			t.Helper()
			meta, err := store.DirectoryMeta(ctx)
			if err != nil {
				t.Fatal(err)
			}
			read := grants.NewDirectoryRead()
			for _, u := range users {
				read.AddUser(u)
			}
			read.Groups["g1"] = grants.DirectoryGroup{ID: "g1", Name: "Engineering"}
			read.Groups["g2"] = grants.DirectoryGroup{ID: "g2", Name: "SRE"}
			for g, ms := range members {
				read.Members[g], read.Tracked[g] = ms, true
			}
			now = now.Add(time.Minute)
			if _, err := store.ApplyDirectoryRead(ctx, meta, read, true, now); err != nil {
				t.Fatal(err)
			}
		}
		check := func(step string, want map[string]int64) {
			t.Helper()
			got, err := store.SyncedGroupSizes(ctx, cat)
			if err != nil {
				t.Fatal(err)
			}
			listed := map[string]int64{"group:eng": 0, "group:sre": 0}
			members, _, err := store.SyncedMembersPage(ctx, cat, slices.Sorted(maps.Keys(cat.Groups)), "", "", "", 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range members {
				listed[m.Tailscale]++
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(listed) != fmt.Sprint(want) {
				t.Errorf("%s: sizes %v, members listed %v, want %v", step, got, listed, want)
			}
		}

		users := []grants.DirectoryUser{
			user("u1", "ann@example.com", grants.StatusActive),
			user("u2", "bob@example.com", grants.StatusSuspended),
			user("u3", "", grants.StatusActive), // no email: not in the tailnet
			user("u4", "dan@example.com", grants.StatusLockedOut),
		}
		poll(users, map[string][]string{"g1": {"u1", "u2", "u3", "u4"}, "g2": {"u1"}})
		check("first poll", map[string]int64{"group:eng": 2, "group:sre": 1})

		if err := store.SaveDirectoryUser(ctx, user("u1", "ann@example.com", grants.StatusSuspended)); err != nil {
			t.Fatal(err)
		}
		check("ann suspended", map[string]int64{"group:eng": 1, "group:sre": 0})
		if err := store.SaveDirectoryUser(ctx, user("u2", "bob@example.com", grants.StatusActive)); err != nil {
			t.Fatal(err)
		}
		if err := store.SaveDirectoryUser(ctx, user("u3", "cat@example.com", grants.StatusActive)); err != nil {
			t.Fatal(err)
		}
		check("bob back, cat has an email", map[string]int64{"group:eng": 3, "group:sre": 0})
		if err := store.MarkDirectoryUserDeleted(ctx, "u4"); err != nil {
			t.Fatal(err)
		}
		check("dan deleted", map[string]int64{"group:eng": 2, "group:sre": 0})

		// A poll: ann is back and joins nothing new, bob joins SRE and
		// leaves Engineering, eve arrives in both.
		users = []grants.DirectoryUser{
			user("u1", "ann@example.com", grants.StatusActive),
			user("u2", "bob@example.com", grants.StatusActive),
			user("u3", "cat@example.com", grants.StatusActive),
			user("u5", "eve@example.com", grants.StatusActive),
		}
		poll(users, map[string][]string{"g1": {"u1", "u3", "u5"}, "g2": {"u1", "u2", "u5"}})
		check("second poll", map[string]int64{"group:eng": 3, "group:sre": 3})
		// A poll where only a status changes.
		users[2] = user("u3", "cat@example.com", grants.StatusDeprovisioned)
		poll(users, map[string][]string{"g1": {"u1", "u3", "u5"}, "g2": {"u1", "u2", "u5"}})
		check("cat deprovisioned", map[string]int64{"group:eng": 2, "group:sre": 3})
	})
}
