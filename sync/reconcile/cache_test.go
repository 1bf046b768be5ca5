package reconcile

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/policyfile"
)

// runLoop runs the reconciler's loop until the test ends.
func runLoop(t *testing.T, e *recEnv) {
	ctx, cancel := context.WithCancel(e.ctx)
	stopped := make(chan struct{})
	go func() { defer close(stopped); e.r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
}

// TestWatchRepairsAnOutsideEdit: a policy replaced from outside (a push
// from git reverting the managed groups) is noticed by the ETag watch and
// restored, with the drift audited, without waiting for the periodic pass.
func TestWatchRepairsAnOutsideEdit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 2)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog(), func(o *Options) {
			o.Watch, o.Resync = 20*time.Millisecond, time.Hour
		})
		runLoop(t, e)
		recAwait(t, e, "group:eng", engineers)

		if err := e.fake.ReplacePolicy([]byte(recSmallPolicy), "gitops@example.com"); err != nil {
			t.Fatal(err)
		}
		recAwait(t, e, "group:eng", engineers)
		if len(recAudit(t, db, "sync.drift")) == 0 {
			t.Errorf("the outside edit was restored but not audited as drift")
		}
	})
}

// TestRemovalLandsAtTheEnd: with no sweeper at all, the reconciler itself
// starts the removing write one write-latency before the grant's end, so it
// lands at expiresAt, neither a round trip early nor late.
func TestRemovalLandsAtTheEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog(), func(o *Options) {
			o.Clock, o.Resync, o.Watch = time.Now, time.Hour, -1
		})
		recUser(t, db, "dana", "dana@example.com", grants.StatusActive)
		id := recGrant(t, db, "prod-db", "group:jit-prod-db", "dana@example.com", grants.GrantActive, time.Now())
		ends := time.Now().Add(500 * time.Millisecond).UTC()
		if err := db.Model(&grants.Grant{}).Where("id = ?", id).Update("expires_at", ends).Error; err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var landed time.Time
		e.afterResponse(func(m, path string) {
			if m != "POST" || !strings.HasSuffix(path, "/acl") {
				return
			}
			if g, _ := policyfile.ReadGroups(e.policy()); len(g["group:jit-prod-db"]) == 0 {
				mu.Lock()
				if landed.IsZero() {
					landed = time.Now()
				}
				mu.Unlock()
			}
		})
		runLoop(t, e)
		recAwait(t, e, "group:jit-prod-db", []string{"dana@example.com"})
		recAwait(t, e, "group:jit-prod-db", []string{})
		mu.Lock()
		defer mu.Unlock()
		off := landed.Sub(ends)
		t.Logf("removal landed %v from expiresAt", off.Round(time.Millisecond))
		if off < -100*time.Millisecond || off > 150*time.Millisecond {
			t.Errorf("removal landed %v from expiresAt, want within a round trip", off)
		}
		if g := recGetGrant(t, db, id); g.RemovedAt == nil {
			t.Errorf("removal not stamped")
		}
	})
}
