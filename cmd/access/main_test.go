package main

// The tests run the real access binary against a real portal: web.New on a
// test database (SQLite, and PostgreSQL when PORTAL_TEST_POSTGRES is set),
// with a directory snapshot, a catalog, API tokens, and the real reconciler
// writing to the simulated tailnet, which is what stamps a grant's appliedAt.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/sync/policyfile"
	"github.com/accessportal/portal/sync/reconcile"
	"github.com/accessportal/portal/sync/tailnet"
	"github.com/accessportal/portal/sync/tailnetfake"
	"github.com/accessportal/portal/web"
)

// accessBin is the binary under test, built once.
var accessBin string

// waitBound bounds every wait of these tests.
const waitBound = 30 * time.Second

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "access-bin")
	if err != nil {
		panic(err)
	}
	accessBin = filepath.Join(dir, "access")
	if out, err := exec.Command("go", "build", "-o", accessBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building access: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The people of the test directory.
const (
	alice   = "alice@example.com"   // Engineering: may request prod-db and staging (auto-approved)
	bob     = "bob@example.com"     // Security: approves prod-db
	carol   = "carol@example.com"   // Security too
	root    = "root@example.com"    // Portal Admins
	mallory = "mallory@example.com" // in no group: may request neither
)

// testCatalog is the catalog of every test portal.
func testCatalog() *grants.Catalog {
	return &grants.Catalog{
		Admins: []string{"Portal Admins"},
		Groups: map[string]string{"group:eng": "Engineering"},
		Resources: map[string]grants.Resource{
			"prod-db": {
				Name: "prod-db", Description: "Production Aurora Postgres", Group: "group:jit-prod-db",
				Eligible: []string{"Engineering"}, Approvers: []string{"Security"}, Approvals: 1,
				MaxDuration: 4 * time.Hour, DefaultDuration: time.Hour, RequireReason: true,
			},
			"staging": {
				Name: "staging", Description: "Staging cluster", Group: "group:jit-staging",
				AutoApprove: []string{"Engineering"}, Approvers: []string{"Security"}, Approvals: 1,
				MaxDuration: 8 * time.Hour, DefaultDuration: time.Hour,
			},
		},
	}
}

// testPortal is a running portal with its simulated tailnet.
type testPortal struct {
	t       *testing.T
	db      *database.DB
	url     string
	tailnet *tailnetfake.Server
	tokens  map[string]string // email -> API token
	config  string            // XDG_CONFIG_HOME of the CLI runs
}

func newTestPortal(t *testing.T, db *database.DB) *testPortal {
	t.Helper()
	catalog := testCatalog()
	fake, tailnetURL, stopTailnet, err := tailnetfake.Start(tailnetfake.Options{APIKeys: []string{"tskey-api-test"}})
	if err != nil {
		t.Fatalf("starting the simulated tailnet: %v", err)
	}
	t.Cleanup(stopTailnet)
	tn, err := tailnet.New(tailnet.Config{APIURL: tailnetURL, APIKey: "tskey-api-test"})
	if err != nil {
		t.Fatal(err)
	}
	rec := reconcile.New(reconcile.Options{Store: grants.NewStore(db), Catalog: func() *grants.Catalog { return catalog }, Policy: tn})
	ctx, cancel := context.WithCancel(context.Background())
	var loops gosync.WaitGroup
	loops.Go(func() { rec.Run(ctx) })
	t.Cleanup(func() { cancel(); loops.Wait() }) // before the database closes

	s, err := web.New(web.Options{DB: db, BaseURL: "http://portal.test", Catalog: func() *grants.Catalog { return catalog }, Wake: rec.Wake})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	p := &testPortal{t: t, db: db, url: srv.URL, tailnet: fake, tokens: map[string]string{}, config: t.TempDir()}
	p.addUser("u-alice", alice, grants.StatusActive, "Engineering")
	p.addUser("u-bob", bob, grants.StatusActive, "Security")
	p.addUser("u-carol", carol, grants.StatusActive, "Security")
	p.addUser("u-root", root, grants.StatusActive, "Portal Admins")
	p.addUser("u-mallory", mallory, grants.StatusActive)
	for _, email := range []string{alice, bob, carol, root, mallory} {
		p.tokens[email] = p.token(email, time.Hour)
	}
	return p
}

// addUser puts a person into the directory snapshot.
func (p *testPortal) addUser(id, email, status string, groups ...string) {
	p.t.Helper()
	now := time.Now().UTC()
	if err := p.db.Create(&grants.DirectoryUser{ID: id, Login: email, Email: email, Name: "User " + id, Status: status, SyncedAt: now}).Error; err != nil {
		p.t.Fatal(err)
	}
	for _, g := range groups {
		gid := "g-" + strings.ReplaceAll(strings.ToLower(g), " ", "-")
		if err := p.db.Where("id = ?", gid).FirstOrCreate(&grants.DirectoryGroup{ID: gid, Name: g, SyncedAt: now}).Error; err != nil {
			p.t.Fatal(err)
		}
		if err := p.db.Create(&grants.DirectoryMembership{GroupID: gid, UserID: id}).Error; err != nil {
			p.t.Fatal(err)
		}
	}
}

// token mints an API token for email, created now and living ttl.
func (p *testPortal) token(email string, ttl time.Duration) string {
	p.t.Helper()
	secret, _, err := grants.NewStore(p.db).CreateToken(context.Background(), email, "cli test", ttl, time.Now())
	if err != nil {
		p.t.Fatal(err)
	}
	return secret
}

// as is the environment of a CLI run by email against this portal.
func (p *testPortal) as(email string) []string {
	return []string{"ACCESS_URL=" + p.url, "ACCESS_TOKEN=" + p.tokens[email], "XDG_CONFIG_HOME=" + p.config}
}

// tailnetGroup is the members of a group in the simulated tailnet's policy.
func (p *testPortal) tailnetGroup(name string) []string {
	p.t.Helper()
	text, _ := p.tailnet.Policy()
	groups, err := policyfile.ReadGroups(text)
	if err != nil {
		p.t.Fatalf("reading the tailnet policy: %v", err)
	}
	return groups[name]
}

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// baseEnv is the environment every run gets: nothing of the developer's own
// configuration leaks in.
func baseEnv(t *testing.T) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TZ=UTC", "XDG_CONFIG_HOME=" + t.TempDir()}
}

func accessCommand(ctx context.Context, t *testing.T, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, accessBin, args...)
	cmd.Env = append(baseEnv(t), env...) // later entries win
	cmd.Dir = t.TempDir()
	return cmd
}

// access runs the binary with env and args, stdin empty.
func access(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return accessIn(t, env, "", args...)
}

// accessIn runs the binary with stdin.
func accessIn(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	cmd := accessCommand(ctx, t, env, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running access %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("access %v did not finish within %s", args, waitBound)
	}
	return result{code, out.String(), errb.String()}
}

// ok runs the binary and fails the test unless it exits 0.
func ok(t *testing.T, env []string, args ...string) result {
	t.Helper()
	r := access(t, env, args...)
	if r.code != 0 {
		t.Fatalf("access %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// okJSON runs the binary with --json, wants exit 0 and decodes stdout into out.
func okJSON(t *testing.T, env []string, out any, args ...string) result {
	t.Helper()
	r := ok(t, env, append([]string{"--json"}, args...)...)
	if err := json.Unmarshal([]byte(r.stdout), out); err != nil {
		t.Fatalf("access --json %s: stdout is not the JSON wanted: %v\n%s", strings.Join(args, " "), err, r)
	}
	return r
}

// failsWith runs the binary and wants exit code code, an empty stdout, and
// exactly one line on stderr containing every one of wants.
func failsWith(t *testing.T, env []string, code int, wants []string, args ...string) result {
	t.Helper()
	r := access(t, env, args...)
	if r.code != code {
		t.Fatalf("access %s: want exit %d, got %s", strings.Join(args, " "), code, r)
	}
	if r.stdout != "" {
		t.Errorf("access %s: stdout should be empty on failure: %s", strings.Join(args, " "), r)
	}
	if lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n"); len(lines) != 1 {
		t.Errorf("access %s: want one line on stderr, got %d:\n%s", strings.Join(args, " "), len(lines), r.stderr)
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("access %s: stderr lacks %q: %s", strings.Join(args, " "), w, r)
		}
	}
	return r
}

// running is a CLI run in progress whose stderr the test reads line by line.
type running struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout bytes.Buffer
	lines  chan string
	seen   []string
	done   chan result
}

// start starts the binary without waiting for it.
func start(t *testing.T, env []string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	t.Cleanup(cancel)
	r := &running{t: t, lines: make(chan string, 100), done: make(chan result, 1)}
	r.cmd = accessCommand(ctx, t, env, args...)
	r.cmd.Stdout = &r.stdout
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		var all strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			r.lines <- sc.Text()
		}
		close(r.lines)
		err := r.cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		r.done <- result{code, r.stdout.String(), all.String()}
	}()
	t.Cleanup(func() { r.cmd.Process.Kill() })
	return r
}

// waitLine waits for a line on stderr containing s and returns it.
func (r *running) waitLine(s string) string {
	r.t.Helper()
	timeout := time.After(waitBound)
	for {
		select {
		case line, open := <-r.lines:
			if !open {
				r.t.Fatalf("the CLI ended without printing %q; it printed %q", s, r.seen)
			}
			r.seen = append(r.seen, line)
			if strings.Contains(line, s) {
				return line
			}
		case <-timeout:
			r.t.Fatalf("no line with %q on stderr within %s; got %q", s, waitBound, r.seen)
		}
	}
}

// wait waits for the run to end.
func (r *running) wait() result {
	r.t.Helper()
	go func() {
		for range r.lines { // drain what waitLine did not read; the result has it all
		}
	}()
	select {
	case res := <-r.done:
		return res
	case <-time.After(waitBound):
		r.t.Fatalf("the CLI did not end within %s; stderr so far %q", waitBound, r.seen)
		return result{}
	}
}

// closedURL is an http URL where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// jsonKeys is the sorted keys of a JSON object.
func jsonKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, raw)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func jsonUnmarshal(s string, out any) error { return json.Unmarshal([]byte(s), out) }
