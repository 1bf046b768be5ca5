package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
)

// benchDB is a fresh migrated SQLite database for a benchmark; with
// PORTAL_BENCH_POSTGRES=1, a fresh PostgreSQL schema (PORTAL_TEST_POSTGRES).
func benchDB(b *testing.B) *database.DB {
	b.Helper()
	if os.Getenv("PORTAL_BENCH_POSTGRES") != "" {
		return dbtest.Postgres(b)
	}
	db, err := database.Open("sqlite:" + filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db
}

// benchEngineers starts a portal whose simulated Okta has n extra engineers
// (synced into group:eng) and whose simulated tailnet answers after 20 ms,
// with the event hook connected; it returns once all n are in the policy.
func benchEngineers(b *testing.B, n int) (*runningPortal, []string) {
	b.Helper()
	slog.SetDefault(slog.New(slog.DiscardHandler)) // keep the results readable
	p := startPortalWithCatalog(b, benchDB(b), time.Hour, demoCatalog, 20*time.Millisecond)
	// Every change reaches the portal through the event hook.
	p.okta.AddEventHook(p.base+"/hooks/okta", "hook-secret")
	eng, _ := p.okta.GroupByName("Engineering")
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("engineer%04d@example.com", i)
		id := p.okta.AddUser(oktafake.User{Login: emails[i], Email: emails[i], FirstName: "Engineer", LastName: fmt.Sprint(i)})
		if err := p.okta.AddMember(eng.ID, id); err != nil {
			b.Fatal(err)
		}
	}
	waitFor(b, time.Minute, func() bool { return p.policyHas(emails[n-1]) })
	// Measure from a settled portal: every hook of the set-up delivered and
	// processed, and the reconciler done with the burst they made.
	if err := p.okta.FlushEventHooks(context.Background()); err != nil {
		b.Fatal(err)
	}
	waitFor(b, time.Minute, func() bool {
		pending, err := grants.PendingOktaEvents(context.Background(), p.db.DB, 1)
		return err == nil && len(pending) == 0
	})
	time.Sleep(time.Second) // a quiet period, as before a real offboarding; no synchronisation rests on it
	return p, emails
}

// BenchmarkOffboardingHookToPolicy: one deactivation at a time, the time
// from Okta's hook delivery to the policy write without the user, against a
// tailnet with 20 ms latency.
func BenchmarkOffboardingHookToPolicy(b *testing.B) {
	p, emails := benchEngineers(b, max(b.N, 1))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := p.okta.SetUserStatus(emails[i], oktafake.StatusDeprovisioned); err != nil {
			b.Fatal(err)
		}
		for p.policyHas(emails[i]) {
			time.Sleep(time.Millisecond) // polling the fake's state, bounded below
			if time.Since(start) > 30*time.Second {
				b.Fatalf("%s still in the policy after 30s", emails[i])
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
	// As round trips to the tailnet (20 ms); the re-read of the person from
	// the simulated Okta is local, so the goal's 2.5 allows for it.
	b.ReportMetric(float64(lat[len(lat)/2])/float64(20*time.Millisecond), "p50-roundtrips")
	b.ReportMetric(float64(lat[(len(lat)*99)/100])/float64(20*time.Millisecond), "p99-roundtrips")
}

// BenchmarkOffboarding200AtOnce: 200 people deactivated in Okta at once; the
// time until none is in the policy and the number of policy writes.
func BenchmarkOffboarding200AtOnce(b *testing.B) {
	var worst time.Duration
	var writesTotal int
	for range b.N {
		b.StopTimer()
		p, emails := benchEngineers(b, 200)
		writes := p.tailnet.Writes()
		b.StartTimer()
		start := time.Now()
		for _, e := range emails {
			if err := p.okta.SetUserStatus(e, oktafake.StatusDeprovisioned); err != nil {
				b.Fatal(err)
			}
		}
		waitFor(b, time.Minute, func() bool {
			text, _ := p.tailnet.Policy()
			return !strings.Contains(string(text), "engineer")
		})
		worst = max(worst, time.Since(start))
		writesTotal += p.tailnet.Writes() - writes
	}
	b.ReportMetric(float64(worst.Milliseconds()), "worst-ms-all-removed")
	b.ReportMetric(float64(writesTotal)/float64(b.N), "policy-writes/op")
}
