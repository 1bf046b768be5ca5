package web_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/web"
)

// The admin dashboard at the sizes the portal promises. At the default
// scale, 1: 10,000 users, 100,000 grants (10,000 of them active), 50,000
// requests (1,000 pending, the others decided by one of ten admins),
// 1,000,000 audit events, 500 offboardings and 5,000 API tokens, over 20
// resources and 5 synced groups. Each sub-benchmark renders one page
// through the whole handler (session, middleware, queries, template) and
// reports the median and p99 server time:
//
//	go test -run '^$' -bench AdminPages -benchtime 200x -timeout 30m ./web/
//
// ADMIN_BENCH_SCALE=N multiplies every count but the catalog's by N: the
// requirement's scale, 100,000 users, 1,000,000 grants and 10,000,000
// audit events, is ADMIN_BENCH_SCALE=10 (allow -timeout 60m).
//
// With PORTAL_TEST_POSTGRES set it runs on PostgreSQL too. Seeding writes
// the directory as a poll does and loads the other tables with batched
// inserts, building their indexes afterwards. ADMIN_BENCH_SQLITE=FILE
// keeps the seeded SQLite database in FILE, and ADMIN_BENCH_SCHEMA=NAME
// the seeded PostgreSQL one in the schema NAME, and the next run of the
// same scale reuses it (one seeded at another scale, by an older version
// of this benchmark, or not to the end, is refused). ns/op is the mean.

// benchSizes are the counts of the seeded portal.
type benchSizes struct {
	Users, Grants, ActiveGrants, Requests, Pending, AuditEvents, Offboardings, Tokens int
}

// benchResources is how many resources the catalog has, at every scale.
const benchResources = 20

// adminBenchSizes reads ADMIN_BENCH_SCALE.
func adminBenchSizes(b *testing.B) benchSizes {
	n := 1
	if v := os.Getenv("ADMIN_BENCH_SCALE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("ADMIN_BENCH_SCALE must be a whole number from 1, not %q", v)
		}
	}
	return benchSizes{
		Users: 10_000 * n, Grants: 100_000 * n, ActiveGrants: 10_000 * n, Requests: 50_000 * n,
		Pending: 1_000 * n, AuditEvents: 1_000_000 * n, Offboardings: 500 * n, Tokens: 5_000 * n,
	}
}

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
		b.Cleanup(func() { admin.Close() })
		schema := os.Getenv("ADMIN_BENCH_SCHEMA")
		if schema == "" {
			var r [6]byte
			rand.Read(r[:])
			schema = "bench_" + hex.EncodeToString(r[:])
			// Cleanups run last registered first: this one before admin closes.
			b.Cleanup(func() {
				if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
					b.Errorf("dropping schema %s: %v", schema, err)
				}
			})
		}
		if err := admin.Exec("CREATE SCHEMA IF NOT EXISTS " + schema).Error; err != nil {
			b.Fatal(err)
		}
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
	n := adminBenchSizes(b)
	if benchSeeded(b, db, n) {
		b.Logf("reusing %d users, %d grants, %d requests, %d audit events", n.Users, n.Grants, n.Requests, n.AuditEvents)
	} else {
		seedAdminBench(b, db, n, now)
		b.Logf("seeded %d users, %d grants, %d requests, %d audit events in %s", n.Users, n.Grants, n.Requests, n.AuditEvents, time.Since(start).Round(time.Second))
	}

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

// benchSeeded reports whether the database holds a portal seeded to the end
// at these sizes, and false when it is empty; a database seeded at other
// sizes, or not to the end, fails the benchmark.
func benchSeeded(b *testing.B, db *database.DB, n benchSizes) bool {
	var users, approvals, tokens, events int64
	err := db.Raw(`SELECT (SELECT COUNT(*) FROM directory_users), (SELECT COUNT(*) FROM approvals),
		(SELECT COUNT(*) FROM api_tokens), (SELECT COALESCE(MAX(id), 0) FROM audit_events)`).Row().Scan(&users, &approvals, &tokens, &events)
	if err != nil {
		b.Fatal(err)
	}
	have := []int64{users, approvals, tokens, events}
	want := []int64{int64(n.Users), int64(n.Requests - n.Pending), int64(n.Tokens), int64(n.AuditEvents)}
	switch {
	case slices.Equal(have, []int64{0, 0, 0, 0}):
		return false
	case slices.Equal(have, want):
		return true
	}
	b.Fatalf("the database holds %v users, approvals, API tokens and audit events, not the %v of this ADMIN_BENCH_SCALE: seeded at another scale, by an older benchmark or not to the end; remove it",
		have, want)
	return false
}

// seedAdminBench fills the database with batched inserts.
func seedAdminBench(b *testing.B, db *database.DB, n benchSizes, now time.Time) {
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
	// The directory as a full poll writes it, the groups' sizes too.
	t0 := time.Now()
	read := grants.NewDirectoryRead()
	for i := range n.Users {
		read.AddUser(grants.DirectoryUser{ID: fmt.Sprintf("u%05d", i), Login: email(i), Email: email(i), Name: fmt.Sprintf("User %d", i), Status: status(i)})
	}
	groupNames := []string{"Portal Admins", "Engineering", "SRE", "Security", "Support", "Data"}
	for i := range 50 {
		groupNames = append(groupNames, fmt.Sprintf("Team %02d", i))
	}
	for i, name := range groupNames {
		id := fmt.Sprintf("g%02d", i)
		read.Groups[id] = grants.DirectoryGroup{ID: id, Name: name}
		read.Tracked[id] = true
	}
	// Admins 0-9; Engineering 60%, SRE 15%, Security 2%, Support 20%,
	// Data 10% (by ranges); every user in two teams.
	type member struct{ g, u int }
	var ms []member
	for u := range n.Users {
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
	slices.SortFunc(ms, func(a, b member) int { return (a.g*n.Users + a.u) - (b.g*n.Users + b.u) })
	ms = slices.Compact(ms)
	for _, m := range ms {
		gid := fmt.Sprintf("g%02d", m.g)
		read.Members[gid] = append(read.Members[gid], fmt.Sprintf("u%05d", m.u))
	}
	store := grants.NewStore(db)
	meta, err := store.DirectoryMeta(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.ApplyDirectoryRead(context.Background(), meta, read, true, now); err != nil {
		b.Fatalf("seeding the directory: %v", err)
	}
	benchVacuum(b, db, "directory_users", "directory_groups", "directory_memberships", "directory_group_sizes")
	b.Logf("seeded %d users in %d groups with %d memberships, as a poll writes them, in %s", n.Users, len(groupNames), len(ms), time.Since(t0).Round(time.Millisecond))

	year := 365 * 24 * time.Hour
	benchInsert(b, db, "requests", []string{"resource", "requester", "duration_seconds", "reason", "status", "created_at"}, n.Requests, func(i int) []any {
		st, at := grants.RequestApproved, now.Add(-year+time.Duration(i)*year/time.Duration(n.Requests))
		if i >= n.Requests-n.Pending {
			j := i - (n.Requests - n.Pending)
			return []any{fmt.Sprintf("res-%02d", j%benchResources), email(10 + j), 3600, "ticket OPS-" + fmt.Sprint(i), grants.RequestPending, now.Add(-time.Duration(n.Pending-j) * time.Minute)}
		}
		if i%7 == 0 {
			st = grants.RequestDenied
		}
		return []any{fmt.Sprintf("res-%02d", i%benchResources), email(i % n.Users), 3600, "ticket OPS-" + fmt.Sprint(i), st, at}
	})
	// Each decided request was decided by one of the ten admins.
	benchInsert(b, db, "approvals", []string{"request_id", "approver", "decision", "at"}, n.Requests-n.Pending, func(i int) []any {
		decision := grants.DecisionApprove
		if i%7 == 0 {
			decision = grants.DecisionDeny
		}
		return []any{int64(i + 1), email(i % 10), decision, now.Add(-year + time.Duration(i)*year/time.Duration(n.Requests) + time.Minute)}
	})
	benchInsert(b, db, "grants", []string{"request_id", "resource", "user_email", "group_name", "starts_at", "expires_at", "status", "applied_at", "granted_by", "reason"}, n.Grants, func(i int) []any {
		res := fmt.Sprintf("res-%02d", i%benchResources)
		// Four in five requests have a grant.
		request := int64(i%(n.Requests*4/5) + 1)
		if i >= n.Grants-n.ActiveGrants {
			// Active: one per user, resources spread evenly.
			u := i - (n.Grants - n.ActiveGrants)
			res = fmt.Sprintf("res-%02d", u%benchResources)
			started := now.Add(-time.Duration(u%240) * time.Minute)
			var applied any = started.Add(2 * time.Second)
			if u%100 == 0 {
				applied = nil
			}
			return []any{request, res, email(u), "group:jit-" + res, started, started.Add(4 * time.Hour), grants.GrantActive, applied, "approver@example.com", "incident " + fmt.Sprint(u)}
		}
		started := now.Add(-year + time.Duration(i)*year/time.Duration(n.Grants))
		st := grants.GrantExpired
		if i%9 == 0 {
			st = grants.GrantRevoked
		}
		return []any{request, res, email(i % n.Users), "group:jit-" + res, started, started.Add(time.Hour), st, started.Add(time.Second), "approver@example.com", "deploy"}
	})
	actions := []string{"request.create", "request.approve", "grant.create", "grant.applied", "grant.expire", "grant.removed", "sync.apply", "grant.revoke", "token.create", "request.deny"}
	const details = `{"resource":"res-03","user":"user01234@example.com","reason":"routine maintenance on the primary"}`
	hash := strings.Repeat("ab", 32)
	step := year / time.Duration(n.AuditEvents)
	auditRow := func(i int) []any {
		at := now.Add(-year + time.Duration(i)*step)
		actor, action, target := email((i*7919)%n.Users), actions[i%len(actions)], fmt.Sprintf("grant:%d", i/10)
		switch {
		case i%20_000 == 0:
			actor, action, target = "system", "sync.drift", "group:eng"
		case i%10 == 3:
			actor = "system"
		}
		return []any{at, actor, action, target, details, hash, hash}
	}
	if db.Dialect == database.Postgres {
		benchLoad(b, db, "audit_events", n.AuditEvents, func() {
			benchPostgresAudit(b, db, n, now.Add(-year), step, actions, details, hash, auditRow)
		})
	} else {
		benchInsert(b, db, "audit_events", []string{"at", "actor", "action", "target", "details", "prev_hash", "hash"}, n.AuditEvents, auditRow)
	}
	// The actors appending the events would have recorded.
	if err := db.Exec("INSERT INTO audit_actors (actor) SELECT DISTINCT actor FROM audit_events").Error; err != nil {
		b.Fatalf("seeding audit_actors: %v", err)
	}
	benchInsert(b, db, "offboardings", []string{"email", "okta_user_id", "okta_status", "event_uuid", "event_received_at", "started_at", "grants_revoked", "policy_confirmed_at"}, n.Offboardings, func(i int) []any {
		at := now.Add(-time.Duration(n.Offboardings-i) * time.Hour)
		return []any{email(19 + 20*i), fmt.Sprintf("u%05d", 19+20*i), grants.StatusSuspended, fmt.Sprintf("evt-%d", i), at, at.Add(time.Second), 1, at.Add(5 * time.Second)}
	})
	benchInsert(b, db, "api_tokens", []string{"email", "name", "token_hash", "created_at"}, n.Tokens, func(i int) []any {
		return []any{email(i * 2), "cli", fmt.Sprintf("%064d", i), now.Add(-time.Duration(i) * time.Hour)}
	})
}

// benchInsert loads n rows into table: see benchLoad and benchInsertRows.
func benchInsert(b *testing.B, db *database.DB, table string, cols []string, n int, row func(i int) []any) {
	benchLoad(b, db, table, n, func() { benchInsertRows(b, db, table, cols, n, row) })
}

// benchLoad runs load, which fills table with n rows, with the table's
// secondary indexes dropped, and builds them again afterwards, as a
// restore does: building an index from sorted rows is much faster than
// growing it a row at a time, and at ten million rows it is most of the
// seeding.
func benchLoad(b *testing.B, db *database.DB, table string, n int, load func()) {
	t0 := time.Now()
	indexes := benchDropIndexes(b, db, table)
	load()
	t1 := time.Now()
	err := db.Transaction(func(tx *gorm.DB) error {
		if db.Dialect == database.Postgres {
			// Sort in memory, as a restore is told to.
			if err := tx.Exec("SET LOCAL maintenance_work_mem = '512MB'").Error; err != nil {
				return err
			}
		}
		for _, create := range indexes {
			if err := tx.Exec(create).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("indexing %s: %v", table, err)
	}
	benchVacuum(b, db, table)
	b.Logf("seeded %d rows of %s in %s, indexed (and vacuumed on PostgreSQL) in %s", n, table, t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
}

// benchVacuum does on PostgreSQL what autovacuum does after a bulk load
// (from PostgreSQL 13 on it vacuums a table after many inserts too):
// statistics, and the visibility map that index-only scans need.
func benchVacuum(b *testing.B, db *database.DB, tables ...string) {
	if db.Dialect != database.Postgres {
		return
	}
	for _, table := range tables {
		if err := db.Exec("VACUUM ANALYZE " + table).Error; err != nil {
			b.Fatalf("vacuuming %s: %v", table, err)
		}
	}
}

// benchInsertRows inserts n rows into table with multi-row INSERTs of one
// prepared statement, in transactions of 100,000 rows.
func benchInsertRows(b *testing.B, db *database.DB, table string, cols []string, n int, row func(i int) []any) {
	sqlDB, err := db.DB.DB()
	if err != nil {
		b.Fatal(err)
	}
	per := min(500, 30_000/len(cols))
	if db.Dialect == database.SQLite {
		// The driver matches each parameter to its argument by a search of
		// all of them: many parameters in one statement cost their square.
		per = max(1, 200/len(cols))
	}
	var tx *sql.Tx
	var full *sql.Stmt
	inTx := 0
	for lo := 0; lo < n; lo += per {
		if tx == nil {
			if tx, err = sqlDB.Begin(); err != nil {
				b.Fatal(err)
			}
			if full, err = tx.Prepare(benchInsertSQL(db, table, cols, per)); err != nil {
				b.Fatalf("seeding %s: %v", table, err)
			}
		}
		hi := min(n, lo+per)
		args := make([]any, 0, (hi-lo)*len(cols))
		for i := lo; i < hi; i++ {
			args = append(args, row(i)...)
		}
		if hi-lo == per {
			_, err = full.Exec(args...)
		} else {
			_, err = tx.Exec(benchInsertSQL(db, table, cols, hi-lo), args...)
		}
		if err != nil {
			tx.Rollback()
			b.Fatalf("seeding %s: %v", table, err)
		}
		if inTx += hi - lo; inTx >= 100_000 || hi == n {
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			tx, inTx = nil, 0
		}
	}
}

// benchPostgresAudit makes PostgreSQL generate the audit events itself,
// four times faster than sending them: the rows row(i) describes, which a
// few samples check.
func benchPostgresAudit(b *testing.B, db *database.DB, n benchSizes, from time.Time, step time.Duration, actions []string, details, hash string, row func(i int) []any) {
	err := db.Exec(`INSERT INTO audit_events (at, actor, action, target, details, prev_hash, hash)
		SELECT CAST(@from AS timestamptz) + (i * @step / 1000) * interval '1 microsecond',
			CASE WHEN i % 20000 = 0 OR i % 10 = 3 THEN 'system'
				WHEN k < 10 THEN 'admin' || k || '@example.com'
				ELSE 'user' || lpad(k::text, greatest(5, length(k::text)), '0') || '@example.com' END,
			CASE WHEN i % 20000 = 0 THEN 'sync.drift' ELSE (string_to_array(@actions, ','))[i % @nactions + 1] END,
			CASE WHEN i % 20000 = 0 THEN 'group:eng' ELSE 'grant:' || i / 10 END,
			@details, @hash, @hash
		FROM generate_series(0::bigint, @n - 1) AS i, LATERAL (SELECT i * 7919 % @users AS k) AS u`,
		map[string]any{"from": from, "step": int64(step), "actions": strings.Join(actions, ","), "nactions": len(actions),
			"details": details, "hash": hash, "n": n.AuditEvents, "users": n.Users}).Error
	if err != nil {
		b.Fatalf("seeding audit_events: %v", err)
	}
	for _, i := range []int{0, 3, 20_000, n.AuditEvents/2 + 7, n.AuditEvents - 1} {
		var got grants.AuditEvent
		if err := db.Where("id = ?", i+1).Take(&got).Error; err != nil {
			b.Fatal(err)
		}
		want := row(i)
		if !got.At.Equal(want[0].(time.Time).Truncate(time.Microsecond)) || got.Actor != want[1] || got.Action != want[2] || got.Target != want[3] {
			b.Fatalf("generated audit event %d = %v %s %s %s, want %v", i+1, got.At, got.Actor, got.Action, got.Target, want[:4])
		}
	}
}

// benchInsertSQL is an INSERT of rows rows into table, in the
// placeholders of db's dialect.
func benchInsertSQL(db *database.DB, table string, cols []string, rows int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	for r := range rows {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for c := range cols {
			if c > 0 {
				sb.WriteByte(',')
			}
			if db.Dialect == database.Postgres {
				fmt.Fprintf(&sb, "$%d", r*len(cols)+c+1)
			} else {
				sb.WriteByte('?')
			}
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

// benchDropIndexes drops the indexes of table that no constraint owns and
// returns the statements that create them again.
func benchDropIndexes(b *testing.B, db *database.DB, table string) []string {
	var indexes []struct{ Name, Create string }
	q := "SELECT name, sql AS \"create\" FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
	if db.Dialect == database.Postgres {
		q = `SELECT c.relname AS name, pg_get_indexdef(x.indexrelid) AS "create"
			FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
			WHERE t.relname = ? AND t.relnamespace = current_schema()::regnamespace
			AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)`
	}
	if err := db.Raw(q, table).Scan(&indexes).Error; err != nil {
		b.Fatalf("reading the indexes of %s: %v", table, err)
	}
	var creates []string
	for _, ix := range indexes {
		if err := db.Exec("DROP INDEX " + ix.Name).Error; err != nil {
			b.Fatalf("dropping %s: %v", ix.Name, err)
		}
		creates = append(creates, ix.Create)
	}
	return creates
}
