package okta

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
)

const directoryTestToken = "00test-api-token"

// directoryClock is the fake Okta's clock: it moves only when told to, so
// that every change gets a distinct timestamp and the test decides how old
// the directory is.
type directoryClock struct {
	mu stdsync.Mutex
	t  time.Time
}

func (c *directoryClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *directoryClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// directoryFixture is a fake Okta org and a directory reading it.
type directoryFixture struct {
	okta  *oktafake.Server
	url   string
	dir   *Directory
	clock *directoryClock
}

// later moves the fake Okta's clock one second ahead, before a change.
func (f *directoryFixture) later() { f.clock.advance(time.Second) }

func newDirectoryFixture(t testing.TB, opts oktafake.Options, cfg Config) *directoryFixture {
	t.Helper()
	opts.APIToken = directoryTestToken
	clock := &directoryClock{t: time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)}
	if opts.Clock == nil {
		opts.Clock = clock.now
	}
	if opts.PageLimit == 0 {
		opts.PageLimit = 4
	}
	if opts.RateLimitPerMinute == 0 {
		opts.RateLimitPerMinute = -1
	}
	srv, u, stop, err := oktafake.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	cfg.OrgURL = u
	cfg.APIToken = directoryTestToken
	if cfg.PageLimit == 0 {
		cfg.PageLimit = 4
	}
	dir, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &directoryFixture{okta: srv, url: u, dir: dir, clock: clock}
}

// okCalls returns the Management API requests the fake received, and resets the count.
func (f *directoryFixture) okCalls() int {
	n := 0
	for route, c := range f.okta.Calls() {
		if strings.Contains(route, "/api/") {
			n += c
		}
	}
	f.okta.ResetCalls()
	return n
}

func (f *directoryFixture) poll(t *testing.T, db *database.DB, wanted []string, full bool) PollResult {
	t.Helper()
	f.okta.ResetCalls()
	res, err := f.dir.Poll(context.Background(), grants.NewStore(db), wanted, full)
	if err != nil {
		t.Fatalf("Poll(full=%t): %v", full, err)
	}
	if got := f.okCalls(); got != res.Calls {
		t.Errorf("Poll reported %d calls, the fake Okta received %d", res.Calls, got)
	}
	return res
}

// directoryOrg is a small org: 14 users over several pages, one of them
// DEPROVISIONED and one SUSPENDED, and four groups of which two are wanted.
type directoryOrg struct {
	users  map[string]string // login -> id
	groups map[string]string // name -> id
}

var directoryWanted = []string{"eng", "admins"}

func seedDirectoryOrg(t testing.TB, f *directoryFixture) *directoryOrg {
	t.Helper()
	o := &directoryOrg{users: map[string]string{}, groups: map[string]string{}}
	// The org was built over time: a minute between changes.
	step := func() { f.clock.advance(time.Minute) }
	for i := range 12 {
		step()
		login := fmt.Sprintf("user%02d@example.com", i)
		o.users[login] = f.okta.AddUser(oktafake.User{Login: login, FirstName: "User", LastName: fmt.Sprint(i)})
	}
	step()
	o.users["Mixed.Case@Example.COM"] = f.okta.AddUser(oktafake.User{Login: "Mixed.Case@Example.COM", FirstName: "Mixed", LastName: "Case"})
	step()
	o.users["gone@example.com"] = f.okta.AddUser(oktafake.User{Login: "gone@example.com", Status: oktafake.StatusDeprovisioned})
	step()
	if err := f.okta.SetUserStatus("user11@example.com", oktafake.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"eng", "admins", "sales", "everyone-else"} {
		step()
		o.groups[name] = f.okta.AddGroup(name, name+" people")
	}
	add := func(group string, logins ...string) {
		for _, l := range logins {
			step()
			if err := f.okta.AddMember(o.groups[group], l); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer f.clock.advance(24 * time.Hour) // polls happen a day later
	// eng spans three pages of members.
	add("eng", "user00@example.com", "user01@example.com", "user02@example.com", "user03@example.com",
		"user04@example.com", "user05@example.com", "user06@example.com", "user11@example.com",
		"Mixed.Case@Example.COM", "gone@example.com")
	add("admins", "user00@example.com")
	add("sales", "user07@example.com", "user08@example.com")
	return o
}

// directoryDump is every row of the snapshot tables, for comparisons.
func directoryDump(t *testing.T, db *database.DB) string {
	t.Helper()
	var users []grants.DirectoryUser
	var groups []grants.DirectoryGroup
	var members []grants.DirectoryMembership
	if err := db.Order("id").Find(&users).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Order("id").Find(&groups).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Order("group_id, user_id").Find(&members).Error; err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	ts := func(p *time.Time) string {
		if p == nil {
			return "nil"
		}
		return p.UTC().Format(time.RFC3339Nano)
	}
	for _, u := range users {
		fmt.Fprintf(&b, "user %s %q %q %q %s %s %s\n", u.ID, u.Login, u.Email, u.Name, u.Status, ts(u.LastUpdated), ts(&u.SyncedAt))
	}
	for _, g := range groups {
		fmt.Fprintf(&b, "group %s %q %q %s %s %s\n", g.ID, g.Name, g.Description, ts(g.LastUpdated), ts(g.LastMembershipUpdated), ts(&g.SyncedAt))
	}
	for _, m := range members {
		fmt.Fprintf(&b, "member %s %s\n", m.GroupID, m.UserID)
	}
	return b.String()
}

// directoryMembers returns the member ids of a group in the snapshot, sorted.
func directoryMembers(t *testing.T, db *database.DB, groupID string) []string {
	t.Helper()
	var ids []string
	if err := db.Model(&grants.DirectoryMembership{}).Where("group_id = ?", groupID).Order("user_id").Pluck("user_id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	return ids
}

func directoryUser(t *testing.T, db *database.DB, id string) (grants.DirectoryUser, bool) {
	t.Helper()
	var rows []grants.DirectoryUser
	if err := db.Where("id = ?", id).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return grants.DirectoryUser{}, false
	}
	return rows[0], true
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestDirectoryFullPoll(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDirectoryFixture(t, oktafake.Options{}, Config{})
		o := seedDirectoryOrg(t, f)

		res := f.poll(t, db, directoryWanted, true)
		if !res.Full || !res.Changed {
			t.Errorf("first full poll: Full=%t Changed=%t, want both", res.Full, res.Changed)
		}
		// 13 users over 4 pages, 1 page of DEPROVISIONED ones, 4 groups on
		// one page, eng's 10 members over 3 pages, admins' 1.
		if want := 4 + 1 + 1 + 3 + 1; res.Calls != want {
			t.Errorf("full poll made %d calls, want %d", res.Calls, want)
		}
		var all []string
		for _, id := range o.users {
			all = append(all, id)
		}
		if !slices.Equal(res.UsersChanged, sortedIDs(all...)) {
			t.Errorf("UsersChanged = %v, want every user %v", res.UsersChanged, sortedIDs(all...))
		}
		if len(res.GroupsChanged) != 4 {
			t.Errorf("GroupsChanged = %v, want the 4 groups", res.GroupsChanged)
		}

		var n int64
		db.Model(&grants.DirectoryUser{}).Count(&n)
		if n != 14 {
			t.Errorf("snapshot has %d users, want 14 (DEPROVISIONED included)", n)
		}
		gone, ok := directoryUser(t, db, o.users["gone@example.com"])
		if !ok || gone.Status != grants.StatusDeprovisioned {
			t.Errorf("DEPROVISIONED user stored as %+v (found %t)", gone, ok)
		}
		if gone.Name != "gone@example.com" {
			t.Errorf("a user without a name is named %q, want the login", gone.Name)
		}
		mixed, _ := directoryUser(t, db, o.users["Mixed.Case@Example.COM"])
		if mixed.Email != "mixed.case@example.com" || mixed.Name != "Mixed Case" || mixed.Login != "Mixed.Case@Example.COM" {
			t.Errorf("user stored as email %q name %q login %q", mixed.Email, mixed.Name, mixed.Login)
		}
		if u, ok := f.okta.User(mixed.ID); mixed.LastUpdated == nil || !ok || !mixed.LastUpdated.Equal(u.LastUpdated) {
			t.Errorf("lastUpdated %v, want Okta's %v", mixed.LastUpdated, u.LastUpdated)
		}
		var raw string
		if err := db.Raw("SELECT CAST(last_updated AS TEXT) FROM directory_users WHERE id = ?", mixed.ID).Row().Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(raw, "+00") && !strings.HasSuffix(raw, "Z") {
			t.Errorf("last_updated stored as %q, want UTC", raw)
		}
		susp, _ := directoryUser(t, db, o.users["user11@example.com"])
		if susp.Status != grants.StatusSuspended {
			t.Errorf("suspended user stored with status %q", susp.Status)
		}

		eng := sortedIDs(o.users["user00@example.com"], o.users["user01@example.com"], o.users["user02@example.com"],
			o.users["user03@example.com"], o.users["user04@example.com"], o.users["user05@example.com"],
			o.users["user06@example.com"], o.users["user11@example.com"], o.users["Mixed.Case@Example.COM"],
			o.users["gone@example.com"])
		if got := directoryMembers(t, db, o.groups["eng"]); !slices.Equal(got, eng) {
			t.Errorf("eng members = %v, want %v", got, eng)
		}
		if got := directoryMembers(t, db, o.groups["admins"]); !slices.Equal(got, []string{o.users["user00@example.com"]}) {
			t.Errorf("admins members = %v", got)
		}
		if got := directoryMembers(t, db, o.groups["sales"]); len(got) != 0 {
			t.Errorf("sales is not wanted, yet its members %v are in the snapshot", got)
		}
		var g grants.DirectoryGroup
		if err := db.First(&g, "id = ?", o.groups["sales"]).Error; err != nil || g.Name != "sales" || g.Description != "sales people" {
			t.Errorf("unwanted group stored as %+v (%v)", g, err)
		}

		// What the rest of the portal reads: a person and their groups.
		p, err := grants.LookupPerson(context.Background(), db.DB, "MIXED.case@example.com")
		if err != nil || !slices.Equal(p.Groups, []string{"eng"}) {
			t.Errorf("LookupPerson = %+v, %v", p, err)
		}

		// A second full poll of an unchanged org reports nothing.
		res = f.poll(t, db, directoryWanted, true)
		if res.Changed || len(res.UsersChanged)+len(res.GroupsChanged) > 0 {
			t.Errorf("full poll of an unchanged org reported %+v", res)
		}
	})
}

func TestDirectoryIncrementalNoChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDirectoryFixture(t, oktafake.Options{}, Config{})
		o := seedDirectoryOrg(t, f)
		// A wanted group with no members must not be re-listed every poll.
		f.later()
		o.groups["empty"] = f.okta.AddGroup("empty", "")
		wanted := append(slices.Clone(directoryWanted), "empty")
		f.poll(t, db, wanted, true)
		before := directoryDump(t, db)

		for i := range 3 {
			res := f.poll(t, db, wanted, false)
			if res.Full || res.Changed || len(res.UsersChanged)+len(res.GroupsChanged) > 0 {
				t.Errorf("poll %d: incremental poll of an unchanged org reported %+v", i, res)
			}
			if res.Calls > 3 {
				t.Errorf("poll %d: incremental poll of an unchanged org made %d calls, want at most 3", i, res.Calls)
			}
			if after := directoryDump(t, db); after != before {
				t.Errorf("poll %d: incremental poll of an unchanged org changed the snapshot:\nbefore:\n%s\nafter:\n%s", i, before, after)
			}
		}
	})
}

func TestDirectoryIncrementalPicksUpChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDirectoryFixture(t, oktafake.Options{}, Config{})
		o := seedDirectoryOrg(t, f)
		f.poll(t, db, directoryWanted, true)
		ctx := context.Background()

		// A membership removal.
		f.later()
		if err := f.okta.RemoveMember(o.groups["eng"], o.users["user01@example.com"]); err != nil {
			t.Fatal(err)
		}
		res := f.poll(t, db, directoryWanted, false)
		if res.Full || !res.Changed ||
			!slices.Equal(res.UsersChanged, []string{o.users["user01@example.com"]}) ||
			!slices.Equal(res.GroupsChanged, []string{o.groups["eng"]}) {
			t.Errorf("after a removal from eng: %+v", res)
		}
		if slices.Contains(directoryMembers(t, db, o.groups["eng"]), o.users["user01@example.com"]) {
			t.Error("removed member still in eng in the snapshot")
		}

		// A status change (offboarding).
		f.later()
		if err := f.okta.SetUserStatus(o.users["user02@example.com"], oktafake.StatusDeprovisioned); err != nil {
			t.Fatal(err)
		}
		res = f.poll(t, db, directoryWanted, false)
		if !slices.Equal(res.UsersChanged, []string{o.users["user02@example.com"]}) || len(res.GroupsChanged) != 0 {
			t.Errorf("after a deactivation: %+v", res)
		}
		if u, _ := directoryUser(t, db, o.users["user02@example.com"]); u.Status != grants.StatusDeprovisioned {
			t.Errorf("deactivated user has status %q in the snapshot", u.Status)
		}
		if res.Calls > 3 {
			t.Errorf("a status change cost %d calls", res.Calls)
		}

		// A new user who joins a wanted group, and an email change.
		f.later()
		newID := f.okta.AddUser(oktafake.User{Login: "New.Hire@Example.com", FirstName: "New", LastName: "Hire"})
		f.later()
		if err := f.okta.AddMember(o.groups["admins"], newID); err != nil {
			t.Fatal(err)
		}
		f.later()
		if err := f.okta.UpdateUser(o.users["user03@example.com"], oktafake.User{Email: "Renamed@Example.com"}); err != nil {
			t.Fatal(err)
		}
		res = f.poll(t, db, directoryWanted, false)
		if !slices.Equal(res.UsersChanged, sortedIDs(newID, o.users["user03@example.com"])) ||
			!slices.Equal(res.GroupsChanged, []string{o.groups["admins"]}) {
			t.Errorf("after a new admin and an email change: %+v", res)
		}
		if u, _ := directoryUser(t, db, newID); u.Email != "new.hire@example.com" || u.Status != grants.StatusActive {
			t.Errorf("new user stored as %+v", u)
		}
		if u, _ := directoryUser(t, db, o.users["user03@example.com"]); u.Email != "renamed@example.com" {
			t.Errorf("changed email stored as %q", u.Email)
		}
		if p, err := grants.LookupPerson(ctx, db.DB, "new.hire@example.com"); err != nil || !slices.Equal(p.Groups, []string{"admins"}) {
			t.Errorf("LookupPerson(new hire) = %+v, %v", p, err)
		}

		// A change in a group nobody wants costs no member listing.
		f.later()
		if err := f.okta.AddMember(o.groups["sales"], o.users["user09@example.com"]); err != nil {
			t.Fatal(err)
		}
		res = f.poll(t, db, directoryWanted, false)
		if res.Changed || res.Calls > 2 {
			t.Errorf("after a change in an unwanted group: %+v", res)
		}
		if got := directoryMembers(t, db, o.groups["sales"]); len(got) != 0 {
			t.Errorf("unwanted group's members %v in the snapshot", got)
		}

		// A renamed wanted group is reported.
		f.later()
		if err := f.okta.RenameGroup(o.groups["admins"], "admins-old"); err != nil {
			t.Fatal(err)
		}
		res = f.poll(t, db, directoryWanted, false)
		if !slices.Contains(res.GroupsChanged, o.groups["admins"]) {
			t.Errorf("after renaming admins away: %+v", res)
		}
		if got := directoryMembers(t, db, o.groups["admins"]); len(got) != 0 {
			t.Errorf("a group renamed out of the wanted names keeps members %v", got)
		}
	})
}

func TestDirectoryWantedGroupsChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDirectoryFixture(t, oktafake.Options{}, Config{})
		o := seedDirectoryOrg(t, f)
		f.poll(t, db, directoryWanted, true)

		// The catalog starts to name sales: its members are listed at once.
		wanted := append(slices.Clone(directoryWanted), "sales")
		res := f.poll(t, db, wanted, false)
		sales := sortedIDs(o.users["user07@example.com"], o.users["user08@example.com"])
		if got := directoryMembers(t, db, o.groups["sales"]); !slices.Equal(got, sales) {
			t.Errorf("sales members after it became wanted: %v, want %v", got, sales)
		}
		if !slices.Equal(res.GroupsChanged, []string{o.groups["sales"]}) || !slices.Equal(res.UsersChanged, sales) {
			t.Errorf("after sales became wanted: %+v", res)
		}
		if res := f.poll(t, db, wanted, false); res.Changed || res.Calls > 2 {
			t.Errorf("next poll: %+v", res)
		}

		// A new process (or replica) has no memory: it re-lists only the
		// wanted groups that have no membership rows, once.
		f.later()
		approvers := f.okta.AddGroup("approvers", "")
		wanted = append(wanted, "approvers")
		res = f.poll(t, db, wanted, false)
		if !slices.Equal(res.GroupsChanged, []string{approvers}) || len(res.UsersChanged) != 0 {
			t.Errorf("a new, empty wanted group: %+v", res)
		}
		dir2, err := New(Config{OrgURL: f.url, APIToken: directoryTestToken, PageLimit: 4})
		if err != nil {
			t.Fatal(err)
		}
		f.dir = dir2
		if res := f.poll(t, db, wanted, false); res.Changed || res.Calls != 3 {
			t.Errorf("first poll of a new process: %+v, want 3 calls (the empty group re-listed)", res)
		}
		if res := f.poll(t, db, wanted, false); res.Changed || res.Calls != 2 {
			t.Errorf("second poll of a new process: %+v, want 2 calls", res)
		}

		// The catalog stops naming sales: its memberships leave the snapshot.
		res = f.poll(t, db, directoryWanted, false)
		if got := directoryMembers(t, db, o.groups["sales"]); len(got) != 0 {
			t.Errorf("sales members %v kept after it stopped being wanted", got)
		}
		if !slices.Equal(res.GroupsChanged, []string{o.groups["sales"]}) {
			t.Errorf("after sales stopped being wanted: %+v", res)
		}
	})
}

func TestDirectoryFullPollRemovesDeletedUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDirectoryFixture(t, oktafake.Options{}, Config{})
		o := seedDirectoryOrg(t, f)
		f.poll(t, db, directoryWanted, true)

		gone := o.users["gone@example.com"]
		f.later()
		if err := f.okta.DeleteUser(gone); err != nil {
			t.Fatal(err)
		}
		// An incremental poll sees eng lose a member, not the deletion itself.
		res := f.poll(t, db, directoryWanted, false)
		if slices.Contains(directoryMembers(t, db, o.groups["eng"]), gone) {
			t.Error("deleted user still a member of eng after an incremental poll")
		}
		if !slices.Equal(res.UsersChanged, []string{gone}) {
			t.Errorf("incremental poll after a deletion: %+v", res)
		}

		res = f.poll(t, db, directoryWanted, true)
		if _, ok := directoryUser(t, db, gone); ok {
			t.Error("deleted user still in the snapshot after a full poll")
		}
		if !slices.Equal(res.UsersChanged, []string{gone}) || !res.Changed {
			t.Errorf("full poll after a deletion: %+v", res)
		}
		// A deleted group goes too, with its memberships.
		f.later()
		if err := f.okta.DeleteGroup(o.groups["admins"]); err != nil {
			t.Fatal(err)
		}
		res = f.poll(t, db, directoryWanted, true)
		var n int64
		db.Model(&grants.DirectoryGroup{}).Where("id = ?", o.groups["admins"]).Count(&n)
		if n != 0 || len(directoryMembers(t, db, o.groups["admins"])) != 0 {
			t.Error("deleted group still in the snapshot")
		}
		if !slices.Equal(res.GroupsChanged, []string{o.groups["admins"]}) ||
			!slices.Equal(res.UsersChanged, []string{o.users["user00@example.com"]}) {
			t.Errorf("full poll after a group deletion: %+v", res)
		}
	})
}

// directoryFaultTransport lets a test act on the fake between two requests.
type directoryFaultTransport struct {
	mu     stdsync.Mutex
	n      int
	before func(n int) // called before request n (1-based)
}

func (tr *directoryFaultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tr.mu.Lock()
	tr.n++
	n := tr.n
	tr.mu.Unlock()
	if tr.before != nil {
		tr.before(n)
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestDirectoryFailureMidwayChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		full   bool
		at     int // the request that starts failing
		status int
		faults int
	}{
		// MaxWait 300ms allows one retry after 250ms: two 500s fail a call.
		{"full/users page 2/500", true, 2, http.StatusInternalServerError, 2},
		// Members are listed four groups at a time: enough faults that no
		// concurrent listing can get through on its retry.
		{"full/members page 2/503", true, 8, http.StatusServiceUnavailable, 50},
		{"full/groups/403", true, 6, http.StatusForbidden, 1},
		{"incremental/members/500", false, 3, http.StatusInternalServerError, 2},
		{"incremental/groups/401", false, 2, http.StatusUnauthorized, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				tr := &directoryFaultTransport{}
				f := newDirectoryFixture(t, oktafake.Options{},
					Config{HTTPClient: &http.Client{Transport: tr}, MaxWait: 300 * time.Millisecond})
				o := seedDirectoryOrg(t, f)
				f.poll(t, db, directoryWanted, true)

				// Changes that a complete read would write.
				f.later()
				if err := f.okta.RemoveMember(o.groups["eng"], o.users["user04@example.com"]); err != nil {
					t.Fatal(err)
				}
				f.later()
				if err := f.okta.SetUserStatus(o.users["user05@example.com"], oktafake.StatusSuspended); err != nil {
					t.Fatal(err)
				}
				f.later()
				if err := f.okta.DeleteUser(o.users["user06@example.com"]); err != nil {
					t.Fatal(err)
				}
				before := directoryDump(t, db)

				tr.mu.Lock()
				tr.n = 0
				tr.before = func(n int) {
					if n == tc.at {
						f.okta.FailNext(tc.faults, tc.status)
					}
				}
				tr.mu.Unlock()
				res, err := f.dir.Poll(context.Background(), grants.NewStore(db), directoryWanted, tc.full)
				if err == nil {
					t.Fatalf("Poll succeeded through an injected %d: %+v", tc.status, res)
				}
				if !strings.Contains(err.Error(), fmt.Sprint(tc.status)) {
					t.Errorf("error %q does not say HTTP %d", err, tc.status)
				}
				if after := directoryDump(t, db); after != before {
					t.Errorf("a failed poll changed the snapshot:\nbefore:\n%s\nafter:\n%s", before, after)
				}
				if res.Changed || len(res.UsersChanged) > 0 {
					t.Errorf("a failed poll reported changes: %+v", res)
				}

				// The next poll, once Okta answers, catches up.
				tr.mu.Lock()
				tr.before = nil
				tr.mu.Unlock()
				f.okta.ClearFaults()
				// Not f.poll: a request the failed poll abandoned may still
				// reach the fake now, so exact call counts are not checked here.
				res, err = f.dir.Poll(context.Background(), grants.NewStore(db), directoryWanted, true)
				if err != nil {
					t.Fatalf("poll after the failure: %v", err)
				}
				want := sortedIDs(o.users["user04@example.com"], o.users["user05@example.com"], o.users["user06@example.com"])
				if !slices.Equal(res.UsersChanged, want) {
					t.Errorf("poll after the failure: UsersChanged %v, want %v", res.UsersChanged, want)
				}
			})
		})
	}
}

func TestDirectoryRetries(t *testing.T) {
	t.Run("short 429 burst and 500s succeed", func(t *testing.T) {
		dbtest.Each(t, func(t *testing.T, db *database.DB) {
			f := newDirectoryFixture(t, oktafake.Options{}, Config{})
			o := seedDirectoryOrg(t, f)
			f.okta.RateLimitNext(2)
			f.okta.FailNext(1, http.StatusInternalServerError)
			f.okta.FailNext(1, http.StatusBadGateway)
			start := time.Now()
			res := f.poll(t, db, directoryWanted, true)
			if want := 10 + 4; res.Calls != want {
				t.Errorf("full poll through 4 faults made %d calls, want %d", res.Calls, want)
			}
			// Each 429 waits for X-Rate-Limit-Reset, one second ahead.
			if d := time.Since(start); d < 2*time.Second {
				t.Errorf("the poll took %s: it did not wait for X-Rate-Limit-Reset", d)
			}
			if got := directoryMembers(t, db, o.groups["eng"]); len(got) != 10 {
				t.Errorf("eng has %d members after the retried poll, want 10", len(got))
			}
		})
	})
	t.Run("long 429 storm fails", func(t *testing.T) {
		dbtest.Each(t, func(t *testing.T, db *database.DB) {
			f := newDirectoryFixture(t, oktafake.Options{}, Config{MaxWait: 1500 * time.Millisecond})
			seedDirectoryOrg(t, f)
			f.okta.RateLimitNext(5)
			_, err := f.dir.Poll(context.Background(), grants.NewStore(db), directoryWanted, true)
			if err == nil || !strings.Contains(err.Error(), "429") {
				t.Fatalf("Poll through a 429 storm: %v, want a rate-limit error", err)
			}
			var n int64
			db.Model(&grants.DirectoryUser{}).Count(&n)
			if n != 0 {
				t.Errorf("a failed poll stored %d users", n)
			}
		})
	})
	t.Run("reset beyond MaxWait fails at once", func(t *testing.T) {
		dbtest.Each(t, func(t *testing.T, db *database.DB) {
			// A fixed clock at the start of a minute: the window resets in 60s.
			at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			f := newDirectoryFixture(t,
				oktafake.Options{RateLimitPerMinute: 3, Clock: func() time.Time { return at }},
				Config{MaxWait: 5 * time.Second})
			seedDirectoryOrg(t, f)
			start := time.Now()
			res, err := f.dir.Poll(context.Background(), grants.NewStore(db), directoryWanted, true)
			if err == nil || !strings.Contains(err.Error(), "429") {
				t.Fatalf("Poll against an exhausted rate limit: %v, want a rate-limit error", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Poll waited %s for a reset it could not wait for", d)
			}
			if res.Calls != 4 {
				t.Errorf("Poll made %d calls, want 3 allowed and 1 refused", res.Calls)
			}
		})
	})
	t.Run("long 5xx outage fails", func(t *testing.T) {
		dbtest.Each(t, func(t *testing.T, db *database.DB) {
			f := newDirectoryFixture(t, oktafake.Options{}, Config{MaxWait: 1 * time.Second})
			seedDirectoryOrg(t, f)
			f.okta.FailNext(20, http.StatusServiceUnavailable)
			_, err := f.dir.Poll(context.Background(), grants.NewStore(db), directoryWanted, true)
			if err == nil || !strings.Contains(err.Error(), "503") {
				t.Fatalf("Poll through a 503 outage: %v, want an error naming 503", err)
			}
		})
	})
}

func TestDirectoryUser(t *testing.T) {
	f := newDirectoryFixture(t, oktafake.Options{}, Config{})
	f.later()
	id := f.okta.AddUser(oktafake.User{Login: "Ada@Example.com", FirstName: "Ada", LastName: "Lovelace", Status: oktafake.StatusSuspended})
	u, found, err := f.dir.User(context.Background(), id)
	if err != nil || !found {
		t.Fatalf("User(%s) = found %t, %v", id, found, err)
	}
	if u.ID != id || u.Email != "ada@example.com" || u.Name != "Ada Lovelace" || u.Status != grants.StatusSuspended || u.Login != "Ada@Example.com" {
		t.Errorf("User = %+v", u)
	}
	f.later()
	if err := f.okta.DeleteUser(id); err != nil {
		t.Fatal(err)
	}
	if _, found, err := f.dir.User(context.Background(), id); err != nil || found {
		t.Errorf("User of a deleted user: found %t, %v; want not found and no error", found, err)
	}
	f.okta.FailNext(1, http.StatusForbidden)
	if _, _, err := f.dir.User(context.Background(), "00uwhatever"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("User through a 403: %v", err)
	}
}

func TestNewOktaDirectoryConfig(t *testing.T) {
	for _, cfg := range []Config{
		{OrgURL: "", APIToken: "x"},
		{OrgURL: "ftp://example.okta.com", APIToken: "x"},
		{OrgURL: "https://example.okta.com", APIToken: ""},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted it", cfg)
		}
	}
	if _, err := New(Config{OrgURL: "https://example.okta.com/", APIToken: "x"}); err != nil {
		t.Errorf("New(https): %v", err)
	}
}

// noFilterTransport answers every request carrying a `filter` with Okta's
// 400 for an unsupported query, like an org or proxy that refuses filters.
type noFilterTransport struct{}

func (noFilterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Query().Get("filter") != "" {
		body := `{"errorCode":"E0000031","errorSummary":"Invalid search criteria.","errorLink":"E0000031","errorId":"x","errorCauses":[]}`
		return &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestDirectoryWithoutFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDirectoryFixture(t, oktafake.Options{}, Config{HTTPClient: &http.Client{Transport: noFilterTransport{}}})
		o := seedDirectoryOrg(t, f)
		// Not f.poll: the refused requests never reach the fake, so its
		// call count is not the directory's.
		if _, err := f.dir.Poll(context.Background(), grants.NewStore(db), directoryWanted, true); err != nil {
			t.Fatalf("full poll without filters: %v", err)
		}
		var n int64
		db.Model(&grants.DirectoryUser{}).Where("status = ?", grants.StatusActive).Count(&n)
		if n == 0 {
			t.Fatal("a full poll without filters stored no users")
		}
		// An incremental poll falls back to a full read and still sees changes.
		f.clock.advance(time.Minute)
		if err := f.okta.SetUserStatus(o.users["user02@example.com"], oktafake.StatusSuspended); err != nil {
			t.Fatal(err)
		}
		res, err := f.dir.Poll(context.Background(), grants.NewStore(db), directoryWanted, false)
		if err != nil || !res.Full || !slices.Contains(res.UsersChanged, o.users["user02@example.com"]) {
			t.Fatalf("incremental poll without filters: %+v, %v", res, err)
		}
	})
}
