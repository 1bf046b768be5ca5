package reconcile

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/policyfile"
)

// TestRunHonoursRetryAfter: a pass refused with 429 and `Retry-After: 1`
// is retried after about one second, not after an exponential backoff; a
// 500 naming no wait is retried within half a second. Either way the loop
// converges once the API answers again.
func TestRunHonoursRetryAfter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 2)
		for _, tc := range []struct {
			name     string
			fault    func(e *recEnv)
			min, max time.Duration
		}{
			{"429 Retry-After 1", func(e *recEnv) { e.fake.RateLimitNext(1) }, time.Second, 1100 * time.Millisecond},
			{"500 without a wait", func(e *recEnv) { e.fake.FailNext(1, http.StatusInternalServerError) }, 0, 500 * time.Millisecond},
		} {
			t.Run(tc.name, func(t *testing.T) {
				waits := make(chan time.Duration, 10)
				e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog(), func(o *Options) {
					o.OnRetry = func(_ error, wait time.Duration) { waits <- wait }
				})
				tc.fault(e)
				ctx, cancel := context.WithCancel(e.ctx)
				stopped := make(chan struct{})
				go func() { defer close(stopped); e.r.Run(ctx) }()
				defer func() { cancel(); <-stopped }()
				select {
				case wait := <-waits:
					if wait < tc.min || wait > tc.max {
						t.Errorf("retry after %v, want between %v and %v", wait, tc.min, tc.max)
					}
				case <-time.After(recWait):
					t.Fatal("the faulty pass was never reported")
				}
				recAwait(t, e, "group:eng", policyfile.NormalizeMembers(engineers))
			})
		}
	})
}
