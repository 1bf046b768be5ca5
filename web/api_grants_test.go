package web_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/policyfile"
	"github.com/accessportal/portal/sync/reconcile"
	"github.com/accessportal/portal/sync/tailnet"
	"github.com/accessportal/portal/sync/tailnetfake"
	"github.com/accessportal/portal/web"
)

func TestGrantsListAndRevoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		d := e.request(t, "dave", `{"resource":"prod-db","reason":"on call"}`) // auto-approved
		b := e.request(t, "bob", `{"resource":"staging"}`)
		e.must(t, 200, "adam", "POST", path("/api/v1/requests/%d/approve", b.ID), `{}`, nil)
		e.must(t, 200, "ada", "POST", path("/api/v1/requests/%d/approve", b.ID), `{}`, &b)
		daveGrant, bobGrant := d.Grant.ID, b.Grant.ID

		ids := func(who, query string) string {
			var list []apiGrant
			e.must(t, 200, who, "GET", "/api/v1/grants"+query, "", &list)
			var out []string
			for _, g := range list {
				out = append(out, fmt.Sprint(g.ID))
			}
			return strings.Join(out, ",")
		}
		cases := []struct{ who, query, want string }{
			{"bob", "", fmt.Sprint(bobGrant)},
			{"bob", "?user=bob@example.com&active=true", fmt.Sprint(bobGrant)},
			{"dave", "?resource=prod-db", fmt.Sprint(daveGrant)},
			{"dave", "?resource=staging", ""},
			{"erin", "", ""},
			{"alice", "", fmt.Sprintf("%d,%d", bobGrant, daveGrant)},
			{"alice", "?user=DAVE@example.com", fmt.Sprint(daveGrant)},
			{"alice", "?resource=staging&active=true", fmt.Sprint(bobGrant)},
			{"alice", "?active=false", ""},
		}
		for _, c := range cases {
			if got := ids(c.who, c.query); got != c.want {
				t.Errorf("%s GET /api/v1/grants%s = [%s], want [%s]", c.who, c.query, got, c.want)
			}
		}
		if code, body := e.call(t, "erin", "GET", "/api/v1/grants", ""); code != 200 || strings.TrimSpace(body) != "[]" {
			t.Errorf("no grants = %d %s, want []", code, body)
		}
		e.refused(t, 403, "only portal admins may list other people's grants", "bob", "GET", "/api/v1/grants?user=dave@example.com", "")
		e.refused(t, 400, "active must be true or false", "bob", "GET", "/api/v1/grants?active=yes", "")

		// Revoking: the grantee or an admin; others do not learn it exists.
		revoke := path("/api/v1/grants/%d/revoke", daveGrant)
		e.refused(t, 404, fmt.Sprintf("no grant %d", daveGrant), "bob", "POST", revoke, `{"reason":"mine now"}`)
		e.refused(t, 404, "no grant 9999", "alice", "POST", "/api/v1/grants/9999/revoke", `{}`)
		e.refused(t, 400, "grant id must be a positive whole number", "alice", "POST", "/api/v1/grants/x/revoke", `{}`)
		e.refused(t, 400, "unknown field", "dave", "POST", revoke, `{"why":"x"}`)
		wakes := e.wakes
		var g apiGrant
		e.must(t, 200, "dave", "POST", revoke, `{"reason":"incident over"}`, &g)
		if g.Status != "revoked" || g.RevokedBy != "dave@example.com" || g.RevokeReason != "incident over" {
			t.Errorf("relinquished grant = %+v", g)
		}
		if e.wakes != wakes+1 {
			t.Error("revocation did not wake the reconciler")
		}
		e.refused(t, 409, "is revoked, not active", "dave", "POST", revoke, `{}`)
		e.must(t, 200, "alice", "POST", path("/api/v1/grants/%d/revoke", bobGrant), `{"reason":"left the project"}`, &g)
		if g.Status != "revoked" || g.RevokedBy != "alice@example.com" {
			t.Errorf("admin-revoked grant = %+v", g)
		}
		if got := ids("alice", "?active=false"); got != fmt.Sprintf("%d,%d", bobGrant, daveGrant) {
			t.Errorf("ended grants = [%s]", got)
		}
		var revokes []grants.AuditEvent
		db.Where("action = ?", "grant.revoke").Order("id").Find(&revokes)
		if len(revokes) != 2 || revokes[0].Actor != "dave@example.com" || !strings.Contains(revokes[0].Details, `"relinquished":true`) ||
			revokes[1].Actor != "alice@example.com" || !strings.Contains(revokes[1].Details, `"reason":"left the project"`) {
			t.Errorf("revoke events = %+v", revokes)
		}
	})
}

func TestDirectGrant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		cases := []struct {
			name, who, body string
			code            int
			msg             string
		}{
			{"not an admin", "carol", `{"resource":"prod-db","user":"bob@example.com","reason":"x"}`, 403, "only portal admins"},
			{"for themselves", "alice", `{"resource":"prod-db","user":"Alice@Example.com","reason":"x"}`, 403, "cannot grant themselves"},
			{"suspended target", "alice", `{"resource":"prod-db","user":"frank@example.com","reason":"x"}`, 400, "SUSPENDED"},
			{"unknown target", "alice", `{"resource":"prod-db","user":"zed@example.com","reason":"x"}`, 404, "no user zed@example.com"},
			{"unknown resource", "alice", `{"resource":"nope","user":"bob@example.com","reason":"x"}`, 404, `no resource "nope"`},
			{"no reason", "alice", `{"resource":"prod-db","user":"bob@example.com"}`, 400, "requires a reason"},
			{"no user", "alice", `{"resource":"prod-db","reason":"x"}`, 400, "user is required"},
			{"too long", "alice", `{"resource":"prod-db","user":"bob@example.com","reason":"x","duration":"5h"}`, 400, "longer than the maximum 4h"},
			{"unknown field", "alice", `{"resource":"prod-db","user":"bob@example.com","reason":"x","approver":"me"}`, 400, "unknown field"},
		}
		for _, c := range cases {
			e.refused(t, c.code, c.msg, c.who, "POST", "/api/v1/grants", c.body)
		}
		var g apiGrant
		e.must(t, 201, "alice", "POST", "/api/v1/grants", `{"resource":"prod-db","user":"bob@example.com","duration":"30m","reason":"break-glass for INC-7"}`, &g)
		if g.User != "bob@example.com" || g.Group != "group:jit-prod-db" || g.RequestID != nil || g.GrantedBy != "alice@example.com" ||
			g.Status != "active" || !g.ExpiresAt.Equal(e.now.Add(30*time.Minute)) {
			t.Errorf("direct grant = %+v", g)
		}
		// Granting again for less keeps the end; for more extends it.
		var again apiGrant
		e.must(t, 201, "adam", "POST", "/api/v1/grants", `{"resource":"prod-db","user":"bob@example.com","duration":"10m","reason":"again"}`, &again)
		if again.ID != g.ID || !again.ExpiresAt.Equal(g.ExpiresAt) {
			t.Errorf("shorter direct grant changed %+v into %+v", g, again)
		}
		e.must(t, 201, "adam", "POST", "/api/v1/grants", `{"resource":"prod-db","user":"bob@example.com","duration":"2h","reason":"longer"}`, &again)
		if again.ID != g.ID || !again.ExpiresAt.Equal(e.now.Add(2*time.Hour)) {
			t.Errorf("longer direct grant = %+v", again)
		}
		var evs []grants.AuditEvent
		db.Where("action = ?", "grant.admin-grant").Order("id").Find(&evs)
		if len(evs) != 3 || evs[0].Actor != "alice@example.com" || evs[0].Target != fmt.Sprintf("grant:%d", g.ID) ||
			!strings.Contains(evs[0].Details, `"outcome":"created"`) || !strings.Contains(evs[0].Details, `"reason":"break-glass for INC-7"`) ||
			!strings.Contains(evs[1].Details, `"outcome":"unchanged"`) || !strings.Contains(evs[2].Details, `"outcome":"extended"`) {
			t.Errorf("admin grant events = %+v", evs)
		}
	})
}

// fakeClock is a settable clock whose After fires when the clock is
// advanced past the deadline.
type fakeClock struct {
	mu      gosync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// TestJustInTimeAccessEndToEnd runs the whole flow against the simulated
// tailnet with the real reconciler and sweeper: request → approve → the
// policy holds the user and the grant is applied → time passes the expiry
// → the sweeper expires the grant → the policy no longer holds the user,
// the grant is removed, and the audit chain verifies.
func TestJustInTimeAccessEndToEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		clock := &fakeClock{now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
		fake, tsURL, closeTailnet, err := tailnetfake.Start(tailnetfake.Options{APIKeys: []string{"tskey-api-e2e"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(closeTailnet)
		tailnet, err := tailnet.New(tailnet.Config{APIURL: tsURL, Tailnet: "-", APIKey: "tskey-api-e2e"})
		if err != nil {
			t.Fatal(err)
		}
		cat, err := grants.ParseCatalog("jit.hujson", []byte(jitCatalog))
		if err != nil {
			t.Fatal(err)
		}
		catalog := func() *grants.Catalog { return cat }
		dbtest.MarkDirectoryRead(t, db)
		rec := reconcile.New(reconcile.Options{Store: grants.NewStore(db), Catalog: catalog, Policy: tailnet, Clock: clock.Now, MinInterval: time.Millisecond})
		sweeps := make(chan grants.SweepResult, 100)
		sweeper := grants.NewSweeper(grants.SweeperOptions{
			Store: grants.NewStore(db), Wake: rec.Wake, Clock: clock.Now, After: clock.After,
			OnSweep: func(res grants.SweepResult, err error) {
				if err != nil {
					t.Errorf("sweep: %v", err)
				}
				sweeps <- res
			},
		})
		ts := servePortal(t, web.Options{DB: db, Catalog: catalog, Clock: clock.Now,
			Wake: func() { rec.Wake(); sweeper.Wake() }})
		ctx, cancel := context.WithCancel(t.Context())
		var loops gosync.WaitGroup
		loops.Go(func() { rec.Run(ctx) })
		loops.Go(func() { sweeper.Run(ctx) })
		t.Cleanup(func() { cancel(); loops.Wait() })

		for i, p := range jitPeople {
			addUser(t, db, fmt.Sprintf("u%d", i), email(p.name), p.status, p.groups...)
		}
		e := &jitEnv{testPortal: &testPortal{db: db, srv: ts}, tokens: map[string]string{
			"bob": token(t, db, email("bob"), 0, clock.Now()), "carol": token(t, db, email("carol"), 0, clock.Now()),
		}}

		inPolicy := func() bool {
			text, _ := fake.Policy()
			groups, err := policyfile.ReadGroups(text)
			if err != nil {
				t.Fatalf("reading the fake's policy: %v", err)
			}
			return slices.Contains(groups["group:jit-prod-db"], "bob@example.com")
		}
		bobsGrant := func() apiGrant {
			var list []apiGrant
			e.must(t, 200, "bob", "GET", "/api/v1/grants", "", &list)
			if len(list) != 1 {
				t.Fatalf("bob has %d grants, want 1", len(list))
			}
			return list[0]
		}
		// waitFor waits, pass by pass, until cond holds.
		waitFor := func(what string, cond func() bool) {
			t.Helper()
			deadline := time.After(20 * time.Second)
			for {
				passed := rec.WaitPass()
				if cond() {
					return
				}
				select {
				case <-passed:
				case <-deadline:
					t.Fatalf("timed out waiting until %s", what)
				}
			}
		}

		r := e.request(t, "bob", `{"resource":"prod-db","duration":"1h","reason":"INC-1234"}`)
		e.must(t, 200, "carol", "POST", path("/api/v1/requests/%d/approve", r.ID), `{"comment":"ok"}`, &r)
		if r.Grant == nil {
			t.Fatalf("approved request has no grant: %+v", r)
		}
		waitFor("the policy holds bob and the grant is applied", func() bool { return inPolicy() && bobsGrant().AppliedAt != nil })
		if g := bobsGrant(); g.Status != "active" || !g.AppliedAt.Equal(clock.Now()) {
			t.Errorf("applied grant = %+v", g)
		}

		// Time passes the expiry: the sweeper wakes up and expires the grant.
		clock.Advance(time.Hour + time.Second)
		for expired := false; !expired; {
			select {
			case res := <-sweeps:
				expired = slices.Contains(res.ExpiredGrants, r.Grant.ID)
			case <-time.After(20 * time.Second):
				t.Fatal("the sweeper did not expire the grant")
			}
		}
		waitFor("the policy no longer holds bob and the grant is removed", func() bool { return !inPolicy() && bobsGrant().RemovedAt != nil })
		g := bobsGrant()
		if g.Status != "expired" || g.RemovedAt == nil || g.AppliedAt == nil {
			t.Errorf("expired grant = %+v", g)
		}
		if n, err := grants.VerifyAudit(t.Context(), db.DB); err != nil || n == 0 {
			t.Errorf("VerifyAudit = %d, %v", n, err)
		}
		var actions []string
		db.Model(&grants.AuditEvent{}).Where("target = ?", fmt.Sprintf("grant:%d", g.ID)).Order("id").Pluck("action", &actions)
		if strings.Join(actions, ",") != "grant.create,grant.applied,grant.expire,grant.removed" {
			t.Errorf("grant events = %v", actions)
		}
	})
}
