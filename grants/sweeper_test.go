package grants_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// fakeClock is a settable clock whose After fires when the clock is
// advanced to the deadline; it remembers what was asked of it.
type fakeClock struct {
	mu      gosync.Mutex
	now     time.Time
	waiters []fakeWaiter
	sleeps  []time.Duration
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

// lastSleep is the duration of the most recent After.
func (c *fakeClock) lastSleep() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sleeps[len(c.sleeps)-1]
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

// sweeperRun runs a sweeper on a fake clock; results arrive on the channel.
type sweeperRun struct {
	*grants.Sweeper
	clock   *fakeClock
	results chan grants.SweepResult
	wakes   atomic.Int64
}

func startSweeper(t *testing.T, db *database.DB, clock *fakeClock, ttl time.Duration) *sweeperRun {
	t.Helper()
	s := &sweeperRun{clock: clock, results: make(chan grants.SweepResult, 100)}
	s.Sweeper = grants.NewSweeper(grants.SweeperOptions{
		Store: grants.NewStore(db), RequestTTL: ttl, Clock: clock.Now, After: clock.After, MaxSleep: 24 * time.Hour,
		Wake: func() { s.wakes.Add(1) },
		OnSweep: func(res grants.SweepResult, err error) {
			if err != nil {
				t.Errorf("sweep: %v", err)
			}
			s.results <- res
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// next waits for the next pass.
func (s *sweeperRun) next(t *testing.T) grants.SweepResult {
	t.Helper()
	select {
	case res := <-s.results:
		return res
	case <-time.After(20 * time.Second):
		t.Fatal("no sweep")
		return grants.SweepResult{}
	}
}

// insertGrant stores an active grant directly.
func insertGrant(t testing.TB, db *database.DB, user, resource string, expires time.Time) int64 {
	t.Helper()
	g := grants.Grant{Resource: resource, UserEmail: user, GroupName: "group:jit-" + resource, StartsAt: t0.Add(-time.Hour), ExpiresAt: expires, Status: grants.GrantActive}
	if err := db.Create(&g).Error; err != nil {
		t.Fatal(err)
	}
	return g.ID
}

func grantStatus(t testing.TB, db *database.DB, id int64) string {
	t.Helper()
	var g grants.Grant
	if err := db.Where("id = ?", id).Take(&g).Error; err != nil {
		t.Fatal(err)
	}
	return g.Status
}

func TestSweeperSleepsUntilTheNextExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		clock := newFakeClock(t0)
		first := insertGrant(t, db, "a@example.com", "prod-db", t0.Add(90*time.Second))
		second := insertGrant(t, db, "b@example.com", "prod-db", t0.Add(5*time.Minute))
		s := startSweeper(t, db, clock, 0)

		res := s.next(t)
		if len(res.ExpiredGrants) != 0 || !res.Next.Equal(t0.Add(90*time.Second)) || clock.lastSleep() != 90*time.Second {
			t.Fatalf("first pass %+v, sleeping %s; want a 90s sleep", res, clock.lastSleep())
		}
		clock.Advance(89 * time.Second)
		if grantStatus(t, db, first) != grants.GrantActive {
			t.Fatal("expired early")
		}
		clock.Advance(time.Second) // exactly expiresAt
		res = s.next(t)
		if !slices.Equal(res.ExpiredGrants, []int64{first}) || grantStatus(t, db, first) != grants.GrantExpired || grantStatus(t, db, second) != grants.GrantActive {
			t.Fatalf("at the first expiry: %+v", res)
		}
		if s.wakes.Load() != 1 {
			t.Errorf("reconciler woken %d times, want 1", s.wakes.Load())
		}
		if clock.lastSleep() != 3*time.Minute+30*time.Second {
			t.Errorf("then sleeps %s, want 3m30s", clock.lastSleep())
		}
		var ev grants.AuditEvent
		db.Where("action = ?", "grant.expire").Take(&ev)
		if ev.Actor != "system" || ev.Target != "grant:1" || !ev.At.Equal(t0.Add(90*time.Second)) || !strings.Contains(ev.Details, `"expiresAt":"2026-11-21T12:01:30Z"`) {
			t.Errorf("expire event = %+v", ev)
		}
	})
}

func TestSweeperWakesEarlyForANearerGrant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		clock := newFakeClock(t0)
		insertGrant(t, db, "a@example.com", "staging", t0.Add(time.Hour))
		s := startSweeper(t, db, clock, 0)
		if s.next(t); clock.lastSleep() != time.Hour {
			t.Fatalf("sleeps %s, want 1h", clock.lastSleep())
		}
		// Dave (on call) gets prod-db for 10 minutes; the request code
		// tells the sweeper.
		r := j.request(t, "dave", "prod-db", 10*time.Minute, t0)
		s.Notify(r.Grant.ExpiresAt)
		if res := s.next(t); !res.Next.Equal(t0.Add(10*time.Minute)) || clock.lastSleep() != 10*time.Minute {
			t.Fatalf("after the nearer grant: next %s, sleeping %s", res.Next, clock.lastSleep())
		}
		clock.Advance(10 * time.Minute)
		if res := s.next(t); !slices.Equal(res.ExpiredGrants, []int64{r.Grant.ID}) {
			t.Fatalf("at 10m: %+v", res)
		}
	})
}

func TestSweeperCatchesUpAfterDowntime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		// While no sweeper ran: three grants ended, one was revoked, one
		// request went stale and one is still young.
		var ended []int64
		for _, u := range []string{"a", "b", "c"} {
			ended = append(ended, insertGrant(t, db, u+"@example.com", "prod-db", t0.Add(-time.Duration(len(ended)+1)*time.Hour)))
		}
		revoked := insertGrant(t, db, "d@example.com", "prod-db", t0.Add(-time.Hour))
		db.Model(&grants.Grant{}).Where("id = ?", revoked).Update("status", grants.GrantRevoked)
		stale := j.request(t, "bob", "prod-db", 0, t0.Add(-25*time.Hour))
		young := j.request(t, "sam", "prod-db", 0, t0.Add(-time.Hour))

		clock := newFakeClock(t0)
		s := startSweeper(t, db, clock, 24*time.Hour)
		res := s.next(t)
		slices.Sort(res.ExpiredGrants)
		if !slices.Equal(res.ExpiredGrants, ended) || !slices.Equal(res.ExpiredRequests, []int64{stale.ID}) {
			t.Fatalf("catch-up pass = %+v, want grants %v and request %d", res, ended, stale.ID)
		}
		if grantStatus(t, db, revoked) != grants.GrantRevoked {
			t.Error("a revoked grant was touched")
		}
		// The young request expires 24h after it was made.
		if !res.Next.Equal(t0.Add(23 * time.Hour)) {
			t.Errorf("next = %s, want the young request's expiry", res.Next)
		}
		got, err := grants.NewStore(db).GetRequest(t.Context(), stale.ID)
		if err != nil || got.Status != grants.RequestExpired || got.DecidedAt == nil || !got.DecidedAt.Equal(t0) {
			t.Errorf("stale request = %+v, %v", got, err)
		}
		clock.Advance(23 * time.Hour)
		if res := s.next(t); !slices.Equal(res.ExpiredRequests, []int64{young.ID}) {
			t.Errorf("at 23h: %+v", res)
		}
		var actions []string
		db.Model(&grants.AuditEvent{}).Where("action IN ?", []string{"grant.expire", "request.expire"}).Order("id").Pluck("action", &actions)
		if strings.Join(actions, ",") != "grant.expire,grant.expire,grant.expire,request.expire,request.expire" {
			t.Errorf("audit = %v", actions)
		}
		var decided []grants.Notification
		db.Where("kind = ?", grants.NotifyRequestDecided).Order("id").Find(&decided)
		if len(decided) != 2 || decided[0].Recipients != `["bob@example.com"]` || !strings.Contains(decided[0].Details, `"status":"expired"`) {
			t.Errorf("requesters told %+v", decided)
		}
		if _, err := grants.VerifyAudit(t.Context(), db.DB); err != nil {
			t.Error(err)
		}
	})
}

func TestSweepExpiresManyInBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		grants.AppendAudit(t.Context(), db.DB, grants.Event{At: t0, Actor: "test", Action: "test.start"})
		at := t0.Add(time.Minute)
		rows := make([]grants.Grant, 1203)
		for i := range rows {
			rows[i] = grants.Grant{Resource: "prod-db", UserEmail: fmt.Sprintf("u%04d@example.com", i), GroupName: "group:jit-prod-db",
				StartsAt: t0, ExpiresAt: at, Status: grants.GrantActive}
		}
		rows[7].Status = grants.GrantRevoked
		if err := db.CreateInBatches(rows, 200).Error; err != nil {
			t.Fatal(err)
		}
		ids, err := grants.NewStore(db).ExpireGrants(t.Context(), at)
		if err != nil || len(ids) != 1202 {
			t.Fatalf("expired %d, %v", len(ids), err)
		}
		var active, expired, events int64
		db.Model(&grants.Grant{}).Where("status = ?", grants.GrantActive).Count(&active)
		db.Model(&grants.Grant{}).Where("status = ?", grants.GrantExpired).Count(&expired)
		db.Model(&grants.AuditEvent{}).Where("action = ?", "grant.expire").Count(&events)
		if active != 0 || expired != 1202 || events != 1202 {
			t.Errorf("active %d, expired %d, grant.expire events %d", active, expired, events)
		}
		grants.AppendAudit(t.Context(), db.DB, grants.Event{At: at, Actor: "test", Action: "test.end"})
		if n, err := grants.VerifyAudit(t.Context(), db.DB); err != nil || n != 1204 {
			t.Errorf("VerifyAudit = %d, %v", n, err)
		}
	})
}
