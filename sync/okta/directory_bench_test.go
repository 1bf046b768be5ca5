package okta

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
)

// The directory of the benchmark: by default 10,000 users, 1,000 groups, of
// which 200 are wanted (synced, admins, approvers, ...) with 50 members
// each; PORTAL_BENCH_OKTA=50000,5000,500 sets users, groups and wanted
// groups (the scale of a large customer). PORTAL_BENCH_POSTGRES=1 polls into
// PostgreSQL (PORTAL_TEST_POSTGRES) instead of SQLite.
var benchUsers, benchGroups, benchWantedGroups = benchScale()

const (
	benchWantedMembers = 50
	benchOtherMembers  = 10
)

func benchScale() (users, groups, wanted int) {
	users, groups, wanted = 10_000, 1_000, 200
	if v := os.Getenv("PORTAL_BENCH_OKTA"); v != "" {
		if _, err := fmt.Sscanf(v, "%d,%d,%d", &users, &groups, &wanted); err != nil {
			panic("PORTAL_BENCH_OKTA wants users,groups,wanted: " + err.Error())
		}
	}
	return users, groups, wanted
}

// newDirectoryBench fills a fake Okta org (Okta's page size, 200) and
// returns it with the wanted group names. The org was bulk-imported an hour
// before the polls.
func newDirectoryBench(b *testing.B) (*directoryFixture, []string) {
	b.Helper()
	f := newDirectoryFixture(b, oktafake.Options{PageLimit: 200}, Config{PageLimit: 200})
	users := make([]string, benchUsers)
	for i := range users {
		users[i] = f.okta.AddUser(oktafake.User{
			Login:     fmt.Sprintf("person%05d@example.com", i),
			FirstName: "Person",
			LastName:  fmt.Sprint(i),
		})
	}
	var wanted []string
	for g := range benchGroups {
		name := fmt.Sprintf("group-%04d", g)
		id := f.okta.AddGroup(name, "")
		n := benchOtherMembers
		if g < benchWantedGroups {
			wanted = append(wanted, name)
			n = benchWantedMembers
		}
		for m := range n {
			if err := f.okta.AddMember(id, users[(g*n+m*37)%benchUsers]); err != nil {
				b.Fatal(err)
			}
		}
	}
	f.clock.advance(time.Hour)
	return f, wanted
}

func benchDirectoryDB(b *testing.B) *database.DB {
	b.Helper()
	if os.Getenv("PORTAL_BENCH_POSTGRES") != "" {
		// On PostgreSQL (PORTAL_TEST_POSTGRES), a fresh schema.
		return dbtest.Postgres(b)
	}
	db, err := database.Open("sqlite:" + filepath.Join(b.TempDir(), "portal.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkDirectoryPoll measures polls of the directory and
// reports the Okta API requests each one makes (okta-calls/op).
func BenchmarkDirectoryPoll(b *testing.B) {
	f, wanted := newDirectoryBench(b)
	ctx := context.Background()
	poll := func(b *testing.B, db *database.DB, full bool) PollResult {
		res, err := f.dir.Poll(ctx, grants.NewStore(db), wanted, full)
		if err != nil {
			b.Fatal(err)
		}
		return res
	}

	b.Run("full", func(b *testing.B) {
		db := benchDirectoryDB(b)
		calls, n := 0, 0
		for b.Loop() {
			calls += poll(b, db, true).Calls
			n++
		}
		b.ReportMetric(float64(calls)/float64(n), "okta-calls/op")
	})

	b.Run("incremental-no-change", func(b *testing.B) {
		db := benchDirectoryDB(b)
		poll(b, db, true)
		calls, n := 0, 0
		for b.Loop() {
			res := poll(b, db, false)
			if res.Changed {
				b.Fatalf("a poll of an unchanged directory changed %+v", res)
			}
			calls += res.Calls
			n++
		}
		b.ReportMetric(float64(calls)/float64(n), "okta-calls/op")
	})

	b.Run("incremental-one-removal", func(b *testing.B) {
		db := benchDirectoryDB(b)
		poll(b, db, true)
		g, _ := f.okta.GroupByName(wanted[7])
		calls, n := 0, 0
		for b.Loop() {
			b.StopTimer()
			f.clock.advance(time.Second)
			if n%2 == 0 {
				_ = f.okta.RemoveMember(g.ID, g.Members[0])
			} else {
				_ = f.okta.AddMember(g.ID, g.Members[0])
			}
			b.StartTimer()
			res := poll(b, db, false)
			if len(res.GroupsChanged) != 1 {
				b.Fatalf("one membership change, reported %+v", res)
			}
			calls += res.Calls
			n++
		}
		b.ReportMetric(float64(calls)/float64(n), "okta-calls/op")
	})

	// A new process (a restart, another replica) knows only the snapshot:
	// its first incremental poll asks for the users updated in the minute
	// before the newest one, here the whole bulk import.
	b.Run("incremental-first-after-restart", func(b *testing.B) {
		db := benchDirectoryDB(b)
		poll(b, db, true)
		calls, n := 0, 0
		for b.Loop() {
			b.StopTimer()
			dir, err := New(Config{OrgURL: f.url, APIToken: directoryTestToken, PageLimit: 200})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err := dir.Poll(ctx, grants.NewStore(db), wanted, false)
			if err != nil {
				b.Fatal(err)
			}
			calls += res.Calls
			n++
		}
		b.ReportMetric(float64(calls)/float64(n), "okta-calls/op")
	})
}
