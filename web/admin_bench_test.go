package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/web"
)

// The admin dashboard at the sizes the portal promises: 10,000 users,
// 100,000 grants (10,000 of them active), 1,000,000 audit events. Each
// sub-benchmark renders one page through the whole handler (session,
// middleware, queries, template) and reports the median and p99 server
// time:
//
//	go test -run '^$' -bench AdminPages -benchtime 200x -timeout 30m ./web/
//
// With PORTAL_TEST_POSTGRES set it runs on PostgreSQL too. Seeding takes a
// while (batched inserts; about a minute on SQLite); ADMIN_BENCH_SQLITE=FILE
// keeps the seeded SQLite database in FILE and reuses it on the next run.
// ns/op is the mean.

// Sizes of the seeded portal.
const (
	benchUsers        = 10_000
	benchGrants       = 100_000
	benchActiveGrants = 10_000
	benchRequests     = 50_000
	benchPending      = 1_000
	benchAuditEvents  = 1_000_000
	benchResources    = 20
)

func BenchmarkAdminPages(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		path := os.Getenv("ADMIN_BENCH_SQLITE")
		if path == "" {
			path = filepath.Join(b.TempDir(), "bench.db")
		}
		db, err := database.Open("sqlite:" + path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		benchAdminPages(b, db)
	})
	base := os.Getenv(dbtest.PostgresEnv)
	if base == "" {
		return
	}
	b.Run("postgres", func(b *testing.B) {
		admin, err := database.Open(base)
		if err != nil {
			b.Fatal(err)
		}
		var r [6]byte
		rand.Read(r[:])
		schema := "bench_" + hex.EncodeToString(r[:])
		if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE"); admin.Close() })
		u, _ := url.Parse(base)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db, err := database.Open(u.String())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		benchAdminPages(b, db)
	})
}

func benchAdminPages(b *testing.B, db *database.DB) {
	ctx := context.Background()
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	start := time.Now()
	cat := benchCatalog()
	var seeded int64
	if err := db.Raw("SELECT COUNT(*) FROM audit_events").Scan(&seeded).Error; err != nil {
		b.Fatal(err)
	}
	if seeded == 0 {
		seedAdminBench(b, db, now)
	}
	b.Logf("seeded %d users, %d grants, %d requests, %d audit events in %s", benchUsers, benchGrants, benchRequests, benchAuditEvents, time.Since(start).Round(time.Second))

	s, err := web.New(web.Options{DB: db, BaseURL: "http://portal.test", Catalog: func() *grants.Catalog { return cat }, Clock: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	cookie := benchSession(b, s, "u00000", "admin0@example.com")

	var midGrant, deepEvent int64
	db.Raw("SELECT id FROM grants WHERE status = 'active' AND resource = 'res-10' ORDER BY user_email LIMIT 1 OFFSET 200").Scan(&midGrant)
	db.Raw("SELECT MAX(id) / 2 FROM audit_events").Scan(&deepEvent)
	mid := now.Add(-180 * 24 * time.Hour)
	pages := []struct{ name, path string }{
		{"dashboard", "/admin"},
		{"access", "/admin/access"},
		{"access-user-filter", "/admin/access?user=user0421"},
		{"access-resource-deep-page", fmt.Sprintf("/admin/access?resource=res-10&gafter=%d", midGrant)},
		{"access-synced-group-deep-page", "/admin/access?resource=group%3Aeng&mgroup=group%3Aeng&mafter=user05000%40example.com"},
		{"requests", "/admin/requests"},
		{"audit", "/admin/audit"},
		{"audit-deep-page", fmt.Sprintf("/admin/audit?before=%d", deepEvent)},
		{"audit-actor", "/admin/audit?actor=user04242%40example.com"},
		{"audit-rare-action", "/admin/audit?action=sync.drift"},
		{"audit-target", "/admin/audit?target=grant%3A12345"},
		{"audit-action-and-range", "/admin/audit?action=grant.revoke&since=" + url.QueryEscape(mid.Format(time.RFC3339)) + "&until=" + url.QueryEscape(mid.Add(24*time.Hour).Format(time.RFC3339))},
		{"audit-narrow-old-range", "/admin/audit?since=" + url.QueryEscape(mid.Format(time.RFC3339)) + "&until=" + url.QueryEscape(mid.Add(time.Hour).Format(time.RFC3339))},
		{"audit-wide-closed-range", "/admin/audit?since=" + url.QueryEscape(now.Add(-300*24*time.Hour).Format(time.RFC3339)) + "&until=" + url.QueryEscape(now.Add(-24*time.Hour).Format(time.RFC3339))},
		{"audit-wide-range", "/admin/audit?since=" + url.QueryEscape(now.Add(-300*24*time.Hour).Format(time.RFC3339))},
		{"offboarding", "/admin/offboarding"},
		{"tokens", "/admin/tokens"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest("GET", p.path, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				times = append(times, time.Since(t0))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d: %s", p.path, rec.Code, rec.Body.String())
				}
			}
			slices.Sort(times)
			ms := func(q float64) float64 {
				return float64(times[min(len(times)-1, int(q*float64(len(times))))].Microseconds()) / 1000
			}
			b.ReportMetric(ms(0.5), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
		})
	}
}

// benchSession signs the person with this Okta user id and email in by
// storing a session, and returns its cookie.
func benchSession(b *testing.B, s *web.Server, userID, email string) *http.Cookie {
	sm := s.Sessions()
	ctx, err := sm.Load(context.Background(), "")
	if err != nil {
		b.Fatal(err)
	}
	// A session is its person's Okta user id (web's sessionUserIDKey).
	sm.Put(ctx, "okta_user_id", userID)
	sm.Put(ctx, grants.SessionEmailKey, email)
	token, _, err := sm.Commit(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return &http.Cookie{Name: sm.Cookie.Name, Value: token}
}

// benchCatalog is the catalog of the seeded portal: 20 resources, 5 synced
// groups.
func benchCatalog() *grants.Catalog {
	cat := &grants.Catalog{Admins: []string{"Portal Admins"}, Groups: map[string]string{}, Resources: map[string]grants.Resource{}}
	for i := range benchResources {
		name := fmt.Sprintf("res-%02d", i)
		cat.Resources[name] = grants.Resource{Name: name, Description: "Resource " + name, Group: "group:jit-" + name, MaxDuration: 8 * time.Hour, Approvals: 1}
	}
	okta := []struct{ ts, name string }{{"group:eng", "Engineering"}, {"group:sre", "SRE"}, {"group:security", "Security"}, {"group:support", "Support"}, {"group:data", "Data"}}
	for _, g := range okta {
		cat.Groups[g.ts] = g.name
	}
	return cat
}

// seedAdminBench fills the database with batched inserts.
func seedAdminBench(b *testing.B, db *database.DB, now time.Time) {
	email := func(i int) string {
		if i < 10 {
			return fmt.Sprintf("admin%d@example.com", i)
		}
		return fmt.Sprintf("user%05d@example.com", i)
	}
	status := func(i int) string {
		if i%20 == 19 {
			return grants.StatusSuspended
		}
		return grants.StatusActive
	}
	benchInsert(b, db, "directory_users", []string{"id", "login", "email", "name", "status", "synced_at"}, benchUsers, func(i int) []any {
		return []any{fmt.Sprintf("u%05d", i), email(i), email(i), fmt.Sprintf("User %d", i), status(i), now}
	})
	groupNames := []string{"Portal Admins", "Engineering", "SRE", "Security", "Support", "Data"}
	for i := range 50 {
		groupNames = append(groupNames, fmt.Sprintf("Team %02d", i))
	}
	benchInsert(b, db, "directory_groups", []string{"id", "name", "synced_at"}, len(groupNames), func(i int) []any {
		return []any{fmt.Sprintf("g%02d", i), groupNames[i], now}
	})
	// Admins 0-9; Engineering 60%, SRE 15%, Security 2%, Support 20%,
	// Data 10% (by ranges); every user in two teams.
	type member struct{ g, u int }
	var ms []member
	for u := range benchUsers {
		if u < 10 {
			ms = append(ms, member{0, u})
		}
		if u%10 < 6 {
			ms = append(ms, member{1, u})
		}
		if u%20 < 3 {
			ms = append(ms, member{2, u})
		}
		if u%50 == 7 {
			ms = append(ms, member{3, u})
		}
		if u%5 == 4 {
			ms = append(ms, member{4, u})
		}
		if u%10 == 9 {
			ms = append(ms, member{5, u})
		}
		ms = append(ms, member{6 + u%50, u}, member{6 + (u/50)%50, u})
	}
	slices.SortFunc(ms, func(a, b member) int { return (a.g*benchUsers + a.u) - (b.g*benchUsers + b.u) })
	ms = slices.Compact(ms)
	benchInsert(b, db, "directory_memberships", []string{"group_id", "user_id"}, len(ms), func(i int) []any {
		return []any{fmt.Sprintf("g%02d", ms[i].g), fmt.Sprintf("u%05d", ms[i].u)}
	})

	year := 365 * 24 * time.Hour
	benchInsert(b, db, "requests", []string{"resource", "requester", "duration_seconds", "reason", "status", "created_at"}, benchRequests, func(i int) []any {
		st, at := grants.RequestApproved, now.Add(-year+time.Duration(i)*year/benchRequests)
		if i >= benchRequests-benchPending {
			j := i - (benchRequests - benchPending)
			return []any{fmt.Sprintf("res-%02d", j%benchResources), email(10 + j), 3600, "ticket OPS-" + fmt.Sprint(i), grants.RequestPending, now.Add(-time.Duration(benchPending-j) * time.Minute)}
		}
		if i%7 == 0 {
			st = grants.RequestDenied
		}
		return []any{fmt.Sprintf("res-%02d", i%benchResources), email(i % benchUsers), 3600, "ticket OPS-" + fmt.Sprint(i), st, at}
	})
	benchInsert(b, db, "grants", []string{"request_id", "resource", "user_email", "group_name", "starts_at", "expires_at", "status", "applied_at", "granted_by", "reason"}, benchGrants, func(i int) []any {
		res := fmt.Sprintf("res-%02d", i%benchResources)
		if i >= benchGrants-benchActiveGrants {
			// Active: one per user, resources spread evenly.
			u := i - (benchGrants - benchActiveGrants)
			res = fmt.Sprintf("res-%02d", u%benchResources)
			started := now.Add(-time.Duration(u%240) * time.Minute)
			var applied any = started.Add(2 * time.Second)
			if u%100 == 0 {
				applied = nil
			}
			return []any{int64(i%40_000 + 1), res, email(u), "group:jit-" + res, started, started.Add(4 * time.Hour), grants.GrantActive, applied, "approver@example.com", "incident " + fmt.Sprint(u)}
		}
		started := now.Add(-year + time.Duration(i)*year/benchGrants)
		st := grants.GrantExpired
		if i%9 == 0 {
			st = grants.GrantRevoked
		}
		return []any{int64(i%40_000 + 1), res, email(i % benchUsers), "group:jit-" + res, started, started.Add(time.Hour), st, started.Add(time.Second), "approver@example.com", "deploy"}
	})
	actions := []string{"request.create", "request.approve", "grant.create", "grant.applied", "grant.expire", "grant.removed", "sync.apply", "grant.revoke", "token.create", "request.deny"}
	hash := strings.Repeat("ab", 32)
	step := year / benchAuditEvents
	benchInsert(b, db, "audit_events", []string{"at", "actor", "action", "target", "details", "prev_hash", "hash"}, benchAuditEvents, func(i int) []any {
		at := now.Add(-year + time.Duration(i)*step)
		actor, action, target := email((i*7919)%benchUsers), actions[i%len(actions)], fmt.Sprintf("grant:%d", i/10)
		switch {
		case i%20_000 == 0:
			actor, action, target = "system", "sync.drift", "group:eng"
		case i%10 == 3:
			actor = "system"
		}
		return []any{at, actor, action, target, `{"resource":"res-03","user":"user01234@example.com","reason":"routine maintenance on the primary"}`, hash, hash}
	})
	benchInsert(b, db, "offboardings", []string{"email", "okta_user_id", "okta_status", "event_uuid", "event_received_at", "started_at", "grants_revoked", "policy_confirmed_at"}, 500, func(i int) []any {
		at := now.Add(-time.Duration(500-i) * time.Hour)
		return []any{email(19 + 20*i), fmt.Sprintf("u%05d", 19+20*i), grants.StatusSuspended, fmt.Sprintf("evt-%d", i), at, at.Add(time.Second), 1, at.Add(5 * time.Second)}
	})
	benchInsert(b, db, "api_tokens", []string{"email", "name", "token_hash", "created_at"}, 5_000, func(i int) []any {
		return []any{email(i * 2), "cli", fmt.Sprintf("%064d", i), now.Add(-time.Duration(i) * time.Hour)}
	})
	if db.Dialector.Name() == "postgres" {
		// What autovacuum does after bulk loads.
		if err := db.Exec("ANALYZE").Error; err != nil {
			b.Fatal(err)
		}
	}
}

// benchInsert inserts n rows into table with multi-row INSERTs in
// transactions of many rows.
func benchInsert(b *testing.B, db *database.DB, table string, cols []string, n int, row func(i int) []any) {
	per := min(500, 30_000/len(cols))
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	tx := db.Begin()
	for lo := 0; lo < n; lo += per {
		hi := min(n, lo+per)
		args := make([]any, 0, (hi-lo)*len(cols))
		for i := lo; i < hi; i++ {
			args = append(args, row(i)...)
		}
		sql := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", hi-lo), ",")
		if err := tx.Exec(sql, args...).Error; err != nil {
			tx.Rollback()
			b.Fatalf("seeding %s: %v", table, err)
		}
		if lo/per%200 == 199 {
			if err := tx.Commit().Error; err != nil {
				b.Fatal(err)
			}
			tx = db.Begin()
		}
	}
	if err := tx.Commit().Error; err != nil {
		b.Fatal(err)
	}
}
