package grants_test

import (
	"slices"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestDesiredInputsFollowEveryDirectoryWrite: the desired state's inputs
// from the directory snapshot are kept between passes, and any write to the
// snapshot, the portal's or anyone's, is seen by the next read.
func TestDesiredInputsFollowEveryDirectoryWrite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		s := grants.NewStore(db)
		now := time.Now()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(db.Create(&grants.DirectoryGroup{ID: "g1", Name: "Engineering", SyncedAt: now}).Error)
		must(db.Create(&grants.DirectoryUser{ID: "u1", Email: "ann@example.com", Login: "ann@example.com", Status: grants.StatusActive, SyncedAt: now}).Error)
		must(db.Create(&grants.DirectoryMembership{GroupID: "g1", UserID: "u1"}).Error)
		members := func() []string {
			t.Helper()
			in, err := s.DesiredInputs(ctx, []string{"Engineering"}, now)
			must(err)
			return in.Members["Engineering"]
		}
		first, _ := s.DesiredInputs(ctx, []string{"Engineering"}, now)
		again, _ := s.DesiredInputs(ctx, []string{"Engineering"}, now)
		if first.DirectoryVersion != again.DirectoryVersion {
			t.Errorf("the version moved without a write: %d, %d", first.DirectoryVersion, again.DirectoryVersion)
		}
		// A row written by hand (not through the store).
		must(db.Create(&grants.DirectoryUser{ID: "u2", Email: "bob@example.com", Login: "bob@example.com", Status: grants.StatusActive, SyncedAt: now}).Error)
		must(db.Create(&grants.DirectoryMembership{GroupID: "g1", UserID: "u2"}).Error)
		if got := members(); !slices.Equal(sorted(got), []string{"ann@example.com", "bob@example.com"}) {
			t.Errorf("after a membership insert: %q", got)
		}
		// A status change through the store: ann departs.
		must(s.SaveDirectoryUser(ctx, grants.DirectoryUser{ID: "u1", Email: "ann@example.com", Login: "ann@example.com", Status: grants.StatusSuspended, SyncedAt: now}))
		in, err := s.DesiredInputs(ctx, []string{"Engineering"}, now)
		must(err)
		if !slices.Equal(in.Members["Engineering"], []string{"bob@example.com"}) || !in.Departed["ann@example.com"] {
			t.Errorf("after ann's suspension: members %q, departed %v", in.Members["Engineering"], in.Departed)
		}
		// A deletion by hand.
		must(db.Where("user_id = ?", "u2").Delete(&grants.DirectoryMembership{}).Error)
		if got := members(); len(got) != 0 {
			t.Errorf("after the membership was deleted: %q", got)
		}
	})
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
