package evidence_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	gosync "sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/grants/evidence"
)

// BenchmarkPacket writes the packet of a period holding
// PORTAL_BENCH_EVIDENCE_EVENTS audit events (default 20,000) and
// PORTAL_BENCH_EVIDENCE_GRANTS grants (default 2,000), each grant with its
// request and approval:
//
//	PORTAL_BENCH_EVIDENCE_EVENTS=1000000 PORTAL_BENCH_EVIDENCE_GRANTS=100000 \
//	  go test -run '^$' -bench Packet -benchtime 1x ./grants/evidence/
//
// It reports the peak heap in use while writing (peak-heap-MB, garbage
// included) and the peak live heap the collector measured
// (peak-live-heap-MB), both about the same whatever the period's size, and
// the packet's size. PORTAL_BENCH_EVIDENCE_VERBOSE=1 logs how long each
// file took.
func BenchmarkPacket(b *testing.B) {
	events := benchEnv(b, "PORTAL_BENCH_EVIDENCE_EVENTS", 20000)
	grantCount := benchEnv(b, "PORTAL_BENCH_EVIDENCE_GRANTS", 2000)
	b.Run(fmt.Sprintf("sqlite/events=%d/grants=%d", events, grantCount), func(b *testing.B) {
		db, err := database.Open("sqlite:" + b.TempDir() + "/bench.db")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		benchPacket(b, db, events, grantCount)
	})
	if os.Getenv(dbtest.PostgresEnv) == "" {
		return
	}
	b.Run(fmt.Sprintf("postgres/events=%d/grants=%d", events, grantCount), func(b *testing.B) {
		db := benchPostgres(b)
		benchPacket(b, db, events, grantCount)
	})
}

func benchEnv(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

func benchPostgres(b *testing.B) *database.DB {
	admin, err := database.Open(os.Getenv(dbtest.PostgresEnv))
	if err != nil {
		b.Fatal(err)
	}
	schema := fmt.Sprintf("bench_evidence_%d", time.Now().UnixNano())
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE"); admin.Close() })
	base := os.Getenv(dbtest.PostgresEnv)
	sep := "?"
	if containsRune(base, '?') {
		sep = "&"
	}
	db, err := database.Open(base + sep + "search_path=" + schema)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}

func benchPacket(b *testing.B, db *database.DB, events, grantCount int) {
	start := time.Now()
	seedBench(b, db, events, grantCount)
	b.Logf("seeded %d events and %d grants in %s", events, grantCount, time.Since(start).Round(time.Millisecond))
	p := &evidence.Packet{Store: evidence.NewDBStore(db.DB), SigningKey: seedKey, ConfigLog: configLog{},
		Now: func() time.Time { return at(48 * time.Hour) }}
	var size countingWriter
	if os.Getenv("PORTAL_BENCH_EVIDENCE_VERBOSE") != "" {
		defer slog.SetLogLoggerLevel(slog.SetLogLoggerLevel(slog.LevelDebug))
	}
	runtime.GC()
	peak := watchHeap()
	b.ResetTimer()
	for range b.N {
		size = 0
		sum, err := p.Write(context.Background(), &size, t0, at(24*time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		if sum.AuditEvents != int64(events) || sum.Grants != int64(grantCount) || !sum.ChainOK {
			b.Fatalf("summary %+v", sum)
		}
	}
	b.StopTimer()
	inUse, live := peak()
	b.ReportMetric(float64(inUse)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(live)/(1<<20), "peak-live-heap-MB")
	b.ReportMetric(float64(size)/(1<<20), "zip-MB")
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// watchHeap samples the heap until the returned function is called, which
// returns the largest heap in use (live objects and garbage not yet
// collected) and the largest live heap the collector measured.
func watchHeap() func() (inUse, live uint64) {
	var mu gosync.Mutex
	var peakInUse, peakLive uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			runtime.ReadMemStats(&ms)
			metrics.Read(sample)
			mu.Lock()
			peakInUse = max(peakInUse, ms.HeapInuse)
			peakLive = max(peakLive, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return peakInUse, peakLive
	}
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// seedBench stores grantCount grants (with requests and approvals) and
// events audit events spread over the period, chained as AppendAudit
// chains them, in multi-row inserts.
func seedBench(b *testing.B, db *database.DB, events, grantCount int) {
	ctx := context.Background()
	const batch = 500
	for lo := 0; lo < grantCount; lo += batch {
		n := min(batch, grantCount-lo)
		reqs := make([]grants.Request, n)
		for i := range reqs {
			when := at(24 * time.Hour / time.Duration(grantCount) * time.Duration(lo+i))
			reqs[i] = grants.Request{Resource: fmt.Sprintf("res-%d", (lo+i)%40), Requester: fmt.Sprintf("u%d@example.com", lo+i),
				DurationSeconds: 3600, Reason: "ticket " + strconv.Itoa(lo+i), Status: grants.RequestApproved, CreatedAt: when.Add(-time.Minute), DecidedAt: ptr(when)}
		}
		if err := db.WithContext(ctx).CreateInBatches(reqs, 100).Error; err != nil {
			b.Fatal(err)
		}
		aps := make([]grants.Approval, n)
		gs := make([]grants.Grant, n)
		for i, r := range reqs {
			approved := *r.DecidedAt
			aps[i] = grants.Approval{RequestID: r.ID, Approver: fmt.Sprintf("approver%d@example.com", i%25), Decision: grants.DecisionApprove, At: approved}
			gs[i] = grants.Grant{RequestID: &reqs[i].ID, Resource: r.Resource, UserEmail: r.Requester, GroupName: "group:jit-" + r.Resource,
				StartsAt: approved, ExpiresAt: approved.Add(time.Hour), Status: grants.GrantExpired, GrantedBy: aps[i].Approver, Reason: r.Reason,
				AppliedAt: ptr(approved.Add(1500 * time.Millisecond)), RemovedAt: ptr(approved.Add(time.Hour + 2*time.Second))}
		}
		if err := db.WithContext(ctx).CreateInBatches(aps, 100).Error; err != nil {
			b.Fatal(err)
		}
		if err := db.WithContext(ctx).CreateInBatches(gs, 100).Error; err != nil {
			b.Fatal(err)
		}
	}
	actions := []string{"request.create", "request.approve", "grant.create", "grant.applied", "sync.apply", "grant.expire", "grant.removed", "token.create"}
	prev := grants.GenesisHash
	rows := make([]grants.AuditEvent, 0, batch)
	for i := range events {
		e := grants.AuditEvent{At: at(24 * time.Hour / time.Duration(events) * time.Duration(i)).Truncate(time.Microsecond),
			Actor: fmt.Sprintf("u%d@example.com", i%5000), Action: actions[i%len(actions)], Target: fmt.Sprintf("grant:%d", i%max(grantCount, 1)+1),
			Details: fmt.Sprintf(`{"resource":"res-%d","user":"u%d@example.com"}`, i%40, i%5000), PrevHash: prev}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		rows = append(rows, e)
		if len(rows) == batch || i == events-1 {
			if err := db.WithContext(ctx).CreateInBatches(rows, 100).Error; err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
}
