package grants_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// t0 is when the tests' story starts.
var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

const jitCatalog = `{
  "admins": ["Portal Admins"],
  "resources": {
    "prod-db": {
      "group": "group:jit-prod-db",
      "eligible": ["Engineering"],
      "approvers": ["Security"],
      "autoApprove": ["On-Call"],
      "maxDuration": "4h",
      "requireReason": true,
    },
    "staging": {"group": "group:jit-staging"},
  },
}`

// cast are the people of the tests: name -> status, groups.
var cast = []struct {
	name, status string
	groups       []string
}{
	{"alice", grants.StatusActive, []string{"Portal Admins"}},
	{"bob", grants.StatusActive, []string{"Engineering"}},
	{"carol", grants.StatusActive, []string{"Security"}},
	{"sam", grants.StatusActive, []string{"Security", "Engineering"}},
	{"dave", grants.StatusActive, []string{"Engineering", "On-Call"}},
	{"frank", grants.StatusSuspended, []string{"Security"}},
}

// jit is a database with the catalog and the cast.
type jit struct {
	db     *database.DB
	cat    *grants.Catalog
	people map[string]*grants.Person
}

func newJIT(t testing.TB, db *database.DB) *jit {
	t.Helper()
	cat, err := grants.ParseCatalog("jit.hujson", []byte(jitCatalog))
	if err != nil {
		t.Fatal(err)
	}
	j := &jit{db: db, cat: cat, people: map[string]*grants.Person{}}
	for i, p := range cast {
		addPerson(t, db, fmt.Sprintf("u%d", i), p.name+"@example.com", p.status, p.groups...)
		person, err := grants.LookupPerson(t.Context(), db.DB, p.name+"@example.com")
		if err != nil {
			t.Fatal(err)
		}
		j.people[p.name] = person
	}
	return j
}

// addPerson puts a user and their groups into the directory snapshot.
func addPerson(t testing.TB, db *database.DB, id, email, status string, groups ...string) {
	t.Helper()
	if err := db.Create(&grants.DirectoryUser{ID: id, Login: email, Email: email, Status: status, SyncedAt: t0}).Error; err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		gid := "g-" + strings.ReplaceAll(strings.ToLower(g), " ", "-")
		if err := db.Where("id = ?", gid).FirstOrCreate(&grants.DirectoryGroup{ID: gid, Name: g, SyncedAt: t0}).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&grants.DirectoryMembership{GroupID: gid, UserID: id}).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func (j *jit) request(t testing.TB, who, resource string, d time.Duration, now time.Time) *grants.Request {
	t.Helper()
	r, err := grants.NewStore(j.db).CreateRequest(t.Context(), j.cat, j.people[who], grants.RequestInput{Resource: resource, Duration: d, Reason: "because"}, now)
	if err != nil {
		t.Fatalf("%s requests %s: %v", who, resource, err)
	}
	return r
}

func (j *jit) approve(t testing.TB, who string, id int64, now time.Time) *grants.Request {
	t.Helper()
	r, err := grants.NewStore(j.db).ApproveRequest(t.Context(), j.cat, id, j.people[who], "", now)
	if err != nil {
		t.Fatalf("%s approves %d: %v", who, id, err)
	}
	return r
}

// outbox returns the queued notifications, oldest first.
func outbox(t testing.TB, db *database.DB) []grants.Notification {
	t.Helper()
	var ns []grants.Notification
	if err := db.Order("id").Find(&ns).Error; err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestRefusalKinds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		ctx := t.Context()
		kind := func(err error) string {
			for name, k := range map[string]error{"invalid": grants.ErrInvalid, "forbidden": grants.ErrForbidden, "notfound": grants.ErrNotFound, "conflict": grants.ErrConflict} {
				var r *grants.Refusal
				if errors.Is(err, k) && errors.As(err, &r) {
					return name
				}
			}
			return fmt.Sprint(err)
		}
		req := func(who, resource string, d time.Duration, reason string) error {
			_, err := grants.NewStore(db).CreateRequest(ctx, j.cat, j.people[who], grants.RequestInput{Resource: resource, Duration: d, Reason: reason}, t0)
			return err
		}
		cases := []struct {
			name string
			err  error
			want string
		}{
			{"unknown resource", req("bob", "nope", 0, "x"), "notfound"},
			{"not eligible", req("carol", "prod-db", 0, "x"), "forbidden"},
			{"suspended", req("frank", "staging", 0, "x"), "forbidden"},
			{"no reason", req("bob", "prod-db", 0, ""), "invalid"},
			{"too long", req("bob", "prod-db", 4*time.Hour+time.Second, "x"), "invalid"},
			{"negative", req("bob", "prod-db", -time.Hour, "x"), "invalid"},
			{"fraction", req("bob", "prod-db", 1500*time.Millisecond, "x"), "invalid"},
		}
		for _, c := range cases {
			if got := kind(c.err); got != c.want {
				t.Errorf("%s: %s, want %s", c.name, got, c.want)
			}
		}
		r := j.request(t, "bob", "prod-db", 0, t0)
		if r.Duration() != time.Hour {
			t.Errorf("default duration = %s, want the catalog default 1h", r.Duration())
		}
		_, err := grants.NewStore(db).ApproveRequest(ctx, j.cat, r.ID, j.people["bob"], "", t0)
		if kind(err) != "forbidden" {
			t.Errorf("self-approval: %v", err)
		}
		_, err = grants.NewStore(db).ApproveRequest(ctx, j.cat, r.ID, j.people["frank"], "", t0)
		if kind(err) != "forbidden" {
			t.Errorf("approval by a suspended approver: %v", err)
		}
		_, err = grants.NewStore(db).ApproveRequest(ctx, j.cat, 999, j.people["carol"], "", t0)
		if kind(err) != "notfound" {
			t.Errorf("unknown request: %v", err)
		}
		j.approve(t, "carol", r.ID, t0)
		_, err = grants.NewStore(db).DenyRequest(ctx, j.cat, r.ID, j.people["sam"], "", t0)
		if kind(err) != "conflict" {
			t.Errorf("denying an approved request: %v", err)
		}
	})
}

func TestRequestJSON(t *testing.T) {
	exp := t0.Add(90 * time.Minute)
	gid := int64(7)
	r := grants.Request{
		ID: 12, Resource: "prod-db", Requester: "bob@example.com", DurationSeconds: 5400, Reason: "INC-1",
		Status: grants.RequestApproved, CreatedAt: t0.In(time.FixedZone("CET", 3600)), DecidedAt: &exp, GrantID: &gid,
		Decisions: []grants.Approval{{Approver: "carol@example.com", Decision: grants.DecisionApprove, Comment: "ok", At: t0}},
		Grant:     &grants.Grant{ID: 7, RequestID: &gid, Resource: "prod-db", UserEmail: "bob@example.com", GroupName: "group:jit-prod-db", StartsAt: t0, ExpiresAt: exp, Status: grants.GrantActive},
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":12,"resource":"prod-db","requester":"bob@example.com","duration":"1h30m","reason":"INC-1","status":"approved",` +
		`"approvals":[{"by":"carol@example.com","at":"2026-11-21T12:00:00Z","comment":"ok","duration":null}],"denial":null,` +
		`"grant":{"id":7,"requestId":7,"resource":"prod-db","user":"bob@example.com","group":"group:jit-prod-db","startsAt":"2026-11-21T12:00:00Z",` +
		`"expiresAt":"2026-11-21T13:30:00Z","status":"active","appliedAt":null,"removedAt":null,"revokedBy":"","revokeReason":"","grantedBy":"","reason":"","revokedAt":null},` +
		`"createdAt":"2026-11-21T12:00:00Z","decidedAt":"2026-11-21T13:30:00Z","autoApproved":null,"pendingReason":null,"extends":null}`
	if string(b) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", b, want)
	}
}

func TestNotificationsAreQueuedWithTheChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		r := j.request(t, "bob", "prod-db", 2*time.Hour, t0)
		ns := outbox(t, db)
		if len(ns) != 1 || ns[0].Kind != grants.NotifyRequestPending || ns[0].Recipients != `["carol@example.com","sam@example.com"]` ||
			ns[0].Status != grants.DeliveryPending || !ns[0].NextAttemptAt.Equal(t0) {
			t.Fatalf("after the request: %+v", ns)
		}
		// sam, an approver, asks for staging (approved by the admins): alice is told.
		j.request(t, "sam", "staging", 0, t0)
		if ns = outbox(t, db); ns[1].Recipients != `["alice@example.com"]` {
			t.Errorf("staging approvers = %s", ns[1].Recipients)
		}

		j.approve(t, "carol", r.ID, t0.Add(time.Minute))
		ns = outbox(t, db)[2:]
		if len(ns) != 2 {
			t.Fatalf("after the approval: %+v", ns)
		}
		if ns[0].Kind == grants.NotifyGrantExpiring {
			ns[0], ns[1] = ns[1], ns[0]
		}
		if ns[0].Kind != grants.NotifyRequestDecided || ns[0].Recipients != `["bob@example.com"]` || !strings.Contains(ns[0].Details, `"status":"approved"`) {
			t.Errorf("decision notification = %+v", ns[0])
		}
		expires := t0.Add(time.Minute + 2*time.Hour)
		if ns[1].Kind != grants.NotifyGrantExpiring || !ns[1].NextAttemptAt.Equal(expires.Add(-10*time.Minute)) || ns[1].GrantID == nil {
			t.Errorf("reminder = %+v, want due 10 minutes before %s", ns[1], expires)
		}

		// Grants of ten minutes or less get no reminder.
		before := len(outbox(t, db))
		j.request(t, "dave", "prod-db", 10*time.Minute, t0)
		if got := outbox(t, db); len(got) != before {
			t.Errorf("a 10-minute auto-approved grant queued %+v", got[before:])
		}
	})
}

// TestConcurrentApprovalsInTheDomain races many approvers on the same
// request below the HTTP layer.
func TestConcurrentApprovalsInTheDomain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		for i := range 4 {
			addPerson(t, db, fmt.Sprintf("sec%d", i), fmt.Sprintf("sec%d@example.com", i), grants.StatusActive, "Security")
		}
		r := j.request(t, "bob", "prod-db", 0, t0)
		var wg gosync.WaitGroup
		var mu gosync.Mutex
		wins, conflicts := 0, 0
		for i := range 4 {
			wg.Go(func() {
				p, err := grants.LookupPerson(t.Context(), db.DB, fmt.Sprintf("sec%d@example.com", i))
				if err != nil {
					t.Error(err)
					return
				}
				_, err = grants.NewStore(db).ApproveRequest(t.Context(), j.cat, r.ID, p, "", t0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, grants.ErrConflict):
					conflicts++
				default:
					t.Errorf("approval: %v", err)
				}
			})
		}
		wg.Wait()
		var n int64
		db.Model(&grants.Grant{}).Count(&n)
		if wins != 1 || conflicts != 3 || n != 1 {
			t.Errorf("wins %d, conflicts %d, grants %d; want 1, 3, 1", wins, conflicts, n)
		}
	})
}

func TestGrantAccessNeverShortens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		admin := j.people["alice"]
		grant := func(d time.Duration, now time.Time) *grants.Grant {
			g, err := grants.NewStore(db).DirectGrant(t.Context(), j.cat, admin, grants.DirectGrantInput{Resource: "staging", User: "bob@example.com", Duration: d, Reason: "r"}, now)
			if err != nil {
				t.Fatal(err)
			}
			return g
		}
		g1 := grant(3*time.Hour, t0)
		g2 := grant(time.Hour, t0.Add(time.Hour))
		g3 := grant(4*time.Hour, t0.Add(2*time.Hour))
		if g2.ID != g1.ID || !g2.ExpiresAt.Equal(t0.Add(3*time.Hour)) || g3.ID != g1.ID || !g3.ExpiresAt.Equal(t0.Add(6*time.Hour)) {
			t.Errorf("grants %v %v %v", g1.ExpiresAt, g2.ExpiresAt, g3.ExpiresAt)
		}
		// A grant that ran out but was not swept yet is over: a new grant
		// starts now, and the old one is expired (with its audit event),
		// so the record shows the gap.
		g4 := grant(time.Hour, t0.Add(7*time.Hour))
		if g4.ID == g1.ID || !g4.StartsAt.Equal(t0.Add(7*time.Hour)) || !g4.ExpiresAt.Equal(t0.Add(8*time.Hour)) {
			t.Errorf("grant after the end = %+v, want a new one for 7h–8h", g4)
		}
		old, err := grants.NewStore(db).GetGrant(t.Context(), g1.ID)
		if err != nil || old.Status != grants.GrantExpired || !old.ExpiresAt.Equal(t0.Add(6*time.Hour)) {
			t.Errorf("the ended grant = %+v, %v; want expired at 6h", old, err)
		}
		var expire grants.AuditEvent
		if err := db.Where("action = ? AND target = ?", "grant.expire", fmt.Sprintf("grant:%d", g1.ID)).Take(&expire).Error; err != nil {
			t.Errorf("no grant.expire event for the ended grant: %v", err)
		}
	})
}

// TestResourceLeavesTheCatalog: a pending request for a resource removed
// from the catalog can no longer be approved, only denied by an admin.
func TestResourceLeavesTheCatalog(t *testing.T) {
	db := dbtest.SQLite(t)
	j := newJIT(t, db)
	r := j.request(t, "bob", "prod-db", 0, t0)
	delete(j.cat.Resources, "prod-db")
	ctx := t.Context()
	if _, err := grants.NewStore(db).ApproveRequest(ctx, j.cat, r.ID, j.people["alice"], "", t0); !errors.Is(err, grants.ErrConflict) || !strings.Contains(err.Error(), "no longer in the catalog") {
		t.Errorf("admin approving = %v", err)
	}
	if _, err := grants.NewStore(db).ApproveRequest(ctx, j.cat, r.ID, j.people["carol"], "", t0); !errors.Is(err, grants.ErrNotFound) {
		t.Errorf("former approver approving = %v, want not found", err)
	}
	got, err := grants.NewStore(db).DenyRequest(ctx, j.cat, r.ID, j.people["alice"], "gone", t0)
	if err != nil || got.Status != grants.RequestDenied {
		t.Errorf("admin denying = %+v, %v", got, err)
	}
}
