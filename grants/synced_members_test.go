package grants_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// Paging through the synced groups' members with a person filter lists
// each present member whose email contains it once per group, groups in
// order, emails in order, whether the filter matches few people (read at
// once) or many (each group walked).
func TestSyncedMembersPageWithAPersonFilter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		store := grants.NewStore(db)
		cat := &grants.Catalog{Groups: map[string]string{"group:data": "Data", "group:eng": "Engineering", "group:sre": "SRE"}}
		groups := []string{"group:data", "group:eng", "group:sre"}
		read := grants.NewDirectoryRead()
		for i, name := range []string{"Data", "Engineering", "SRE"} {
			id := fmt.Sprintf("g%d", i)
			read.Groups[id] = grants.DirectoryGroup{ID: id, Name: name}
			read.Tracked[id] = true
		}
		type member struct{ group, email string }
		var all []member
		for i := range 1400 {
			u := grants.DirectoryUser{ID: fmt.Sprintf("u%04d", i), Email: fmt.Sprintf("p%04d@example.com", i), Name: "P", Status: grants.StatusActive}
			switch {
			case i%11 == 3:
				u.Status = grants.StatusSuspended
			case i%13 == 5:
				u.Email = ""
			}
			read.AddUser(u)
			for g := range 3 {
				if i%(g+2) == 0 {
					id := fmt.Sprintf("g%d", g)
					read.Members[id] = append(read.Members[id], u.ID)
					if u.Status == grants.StatusActive && u.Email != "" {
						all = append(all, member{groups[g], u.Email})
					}
				}
			}
		}
		meta, err := store.DirectoryMeta(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.ApplyDirectoryRead(ctx, meta, read, true, time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(all, func(a, b member) int { return strings.Compare(a.group+" "+a.email, b.group+" "+b.email) })

		// "p00" matches 100 people, "p1" 500, "example.com" all, more than
		// the 1,000 read at once.
		for _, user := range []string{"p00", "p1", "p0123", "example.com", "nobody"} {
			var want, got []member
			for _, m := range all {
				if strings.Contains(m.email, user) {
					want = append(want, m)
				}
			}
			afterGroup, afterEmail := "", ""
			for pages := 0; ; pages++ {
				if pages > 1000 {
					t.Fatalf("%q: paging does not end", user)
				}
				page, more, err := store.SyncedMembersPage(ctx, cat, groups, user, afterGroup, afterEmail, 40)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range page {
					got = append(got, member{m.Tailscale, m.Email})
				}
				if !more {
					break
				}
				afterGroup, afterEmail = page[len(page)-1].Tailscale, page[len(page)-1].Email
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%q: paged %d members, want %d\n got %v\nwant %v", user, len(got), len(want), got, want)
			}
		}
	})
}
