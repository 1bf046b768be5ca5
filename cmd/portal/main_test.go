package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// portalBin is the portal binary built once for these tests.
var portalBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "portal-bin")
	if err != nil {
		panic(err)
	}
	portalBin = filepath.Join(dir, "portal")
	if out, err := exec.Command("go", "build", "-o", portalBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building portal: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
}

// portal runs the binary with env (and nothing else from the environment
// except PATH and HOME).
func portal(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return portalWithStdin(t, env, "", args...)
}

// portalWithStdin is portal with stdin.
func portalWithStdin(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, portalBin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running portal %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

// serveEnv is a complete, valid production environment (nothing listens
// behind the URLs: these tests stop before any call goes out).
func serveEnv(t *testing.T, extra ...string) []string {
	return append([]string{
		"DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "p.db"),
		"OKTA_ORG_URL=https://example.okta.com", "OKTA_API_TOKEN=x",
		"OIDC_ISSUER=https://example.okta.com", "OIDC_CLIENT_ID=c", "OIDC_CLIENT_SECRET=s",
		"TAILSCALE_API_KEY=tskey-api-x", "PORTAL_ADDR=127.0.0.1:0",
	}, extra...)
}

func without(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func TestServeRefusesBadConfigurationNamingIt(t *testing.T) {
	badCatalog := filepath.Join(t.TempDir(), "catalog.hujson")
	os.WriteFile(badCatalog, []byte("{\n  \"admins\": [\"A\"],\n  \"colour\": \"blue\",\n}\n"), 0o600)
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"no OKTA_ORG_URL", without(serveEnv(t), "OKTA_ORG_URL"), "OKTA_ORG_URL is required"},
		{"no OIDC_CLIENT_SECRET", without(serveEnv(t), "OIDC_CLIENT_SECRET"), "OIDC_CLIENT_SECRET is required"},
		{"no Tailscale credential", without(serveEnv(t), "TAILSCALE_API_KEY"), "TAILSCALE_OAUTH_CLIENT_ID is required"},
		{"two Tailscale credentials", serveEnv(t, "TAILSCALE_OAUTH_CLIENT_ID=a", "TAILSCALE_OAUTH_CLIENT_SECRET=b"), "TAILSCALE_API_KEY and TAILSCALE_OAUTH_CLIENT_ID/SECRET are both set"},
		{"half an OAuth client", without(serveEnv(t, "TAILSCALE_OAUTH_CLIENT_ID=a"), "TAILSCALE_API_KEY"), "TAILSCALE_OAUTH_CLIENT_SECRET is required"},
		{"bad interval", serveEnv(t, "PORTAL_SYNC_INTERVAL=often"), "PORTAL_SYNC_INTERVAL"},
		{"bad base URL", serveEnv(t, "PORTAL_BASE_URL=portal.example.com"), "PORTAL_BASE_URL"},
		{"bad database URL", serveEnv(t, "DATABASE_URL=mysql://x"), "DATABASE_URL"},
		{"unknown catalog key", serveEnv(t, "PORTAL_CATALOG="+badCatalog), "catalog.hujson:3: colour: unknown key"},
		{"no Okta credential", without(serveEnv(t), "OKTA_API_TOKEN"), "OKTA_CLIENT_ID is required"},
		{"two Okta credentials", serveEnv(t, "OKTA_CLIENT_ID=0oa1", "OKTA_PRIVATE_KEY=x"), "OKTA_API_TOKEN and OKTA_CLIENT_ID/OKTA_PRIVATE_KEY are both set"},
		{"service app without its key", without(serveEnv(t, "OKTA_CLIENT_ID=0oa1"), "OKTA_API_TOKEN"), "OKTA_PRIVATE_KEY is required"},
		{"unreadable key file", without(serveEnv(t, "OKTA_CLIENT_ID=0oa1", "OKTA_PRIVATE_KEY=@/no/such/key.pem"), "OKTA_API_TOKEN"), "OKTA_PRIVATE_KEY names a file that cannot be read"},
		{"Okta over http", serveEnv(t, "OKTA_ORG_URL=http://example.okta.com"), "OKTA_ORG_URL = \"http://example.okta.com\" must be https://"},
		{"OIDC over http", serveEnv(t, "OIDC_ISSUER=http://idp.example.com"), "OIDC_ISSUER"},
		{"Tailscale over http", serveEnv(t, "TAILSCALE_API_URL=http://10.0.0.1:8080"), "TAILSCALE_API_URL"},
		{"bad login attribute", serveEnv(t, "PORTAL_TAILSCALE_LOGIN=upn"), "PORTAL_TAILSCALE_LOGIN"},
		{"PagerDuty over http", serveEnv(t, "PAGERDUTY_API_TOKEN=k", "PAGERDUTY_API_URL=http://pd.example.com"), "PAGERDUTY_API_URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := portal(t, c.env, "serve")
			if r.code != 1 || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 naming %q", r.code, r.stderr, c.want)
			}
			if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines > 3 {
				t.Errorf("want a short message, got %d lines:\n%s", lines+1, r.stderr)
			}
		})
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	env := []string{"DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "p.db")}
	for _, args := range [][]string{{}, {"frobnicate"}, {"token", "create"}, {"token"}, {"migrate", "extra"}, {"serve", "--nope"}, {"catalog", "import"}, {"audit"}} {
		if r := portal(t, env, args...); r.code != 2 {
			t.Errorf("portal %v: exit %d (stderr %q), want 2", args, r.code, r.stderr)
		}
	}
	for _, cmd := range []string{"serve", "demo", "migrate", "sync", "token", "catalog", "audit"} {
		r := portal(t, env, cmd, "--help")
		if r.code != 0 || !strings.Contains(r.stderr, "usage: portal "+cmd) {
			t.Errorf("portal %s --help: exit %d, stderr %q", cmd, r.code, r.stderr)
		}
	}
}

func TestTokenCreatePrintsTheTokenAlone(t *testing.T) {
	eachDatabaseURL(t, func(t *testing.T, dbURL string) {
		env := []string{"DATABASE_URL=" + dbURL}
		// Flags after the positional argument work too.
		r := portal(t, env, "token", "create", "--user", "Alice@Example.com", "--name", "laptop", "--ttl", "2h")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		secret := lines[len(lines)-1]
		if len(lines) != 1 || !strings.HasPrefix(secret, "pat_") {
			t.Fatalf("stdout = %q, want the token alone", r.stdout)
		}
		if !strings.Contains(r.stderr, "alice@example.com") {
			t.Errorf("stderr = %q", r.stderr)
		}
		r = portal(t, env, "token", "--user", "bob@example.com", "create")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "pat_") {
			t.Fatalf("flags before the argument: exit %d %q %q", r.code, r.stdout, r.stderr)
		}
		if r := portal(t, env, "token", "create", "--user", "not-an-email"); r.code != 1 {
			t.Errorf("bad email: exit %d", r.code)
		}
		// The audit log records both mints and verifies.
		r = portal(t, env, "audit", "verify")
		if r.code != 0 || !strings.Contains(r.stdout, "2 event(s) verified") {
			t.Errorf("audit verify: exit %d %q %q", r.code, r.stdout, r.stderr)
		}
	})
}

func TestAuditVerifyNamesTheFirstBrokenEvent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbDB) {
		dbURL := dbURLOf(t, db)
		env := []string{"DATABASE_URL=" + dbURL}
		for i := range 3 {
			if r := portal(t, env, "token", "create", "--user", fmt.Sprintf("u%d@example.com", i)); r.code != 0 {
				t.Fatal(r.stderr)
			}
		}
		if err := db.Exec("UPDATE audit_events SET actor = 'mallory@example.com' WHERE id = 2").Error; err != nil {
			t.Fatal(err)
		}
		r := portal(t, env, "audit", "verify")
		if r.code != 1 || !strings.Contains(r.stderr, "audit event 2") {
			t.Fatalf("exit %d, stderr %q; want 1 naming event 2", r.code, r.stderr)
		}
	})
}

func TestCatalogExportImportRoundTrip(t *testing.T) {
	eachDatabaseURL(t, func(t *testing.T, dbURL string) {
		env := []string{"DATABASE_URL=" + dbURL}
		file := filepath.Join(t.TempDir(), "catalog.hujson")
		os.WriteFile(file, demoCatalog, 0o600)
		if r := portal(t, env, "catalog", "import", file); r.code != 0 {
			t.Fatalf("import: exit %d %s", r.code, r.stderr)
		}
		first := portal(t, env, "catalog", "export")
		if first.code != 0 || !strings.Contains(first.stdout, `"group:jit-prod-db"`) {
			t.Fatalf("export: exit %d %q", first.code, first.stdout)
		}
		want, err := grants.ParseCatalog("demo", demoCatalog)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := grants.ParseCatalog("export", []byte(first.stdout)); err != nil || string(got.Format()) != string(want.Format()) {
			t.Fatalf("export differs from the import: %v\n%s", err, first.stdout)
		}
		os.WriteFile(file, []byte(first.stdout), 0o600)
		if r := portal(t, env, "catalog", "import", file); r.code != 0 {
			t.Fatalf("re-import: %s", r.stderr)
		}
		if again := portal(t, env, "catalog", "export"); again.stdout != first.stdout {
			t.Errorf("export is not stable:\n%s\n---\n%s", first.stdout, again.stdout)
		}
		// export | import /dev/stdin round-trips.
		if r := portalWithStdin(t, env, first.stdout, "catalog", "import", "/dev/stdin"); r.code != 0 {
			t.Fatalf("import /dev/stdin: exit %d %s", r.code, r.stderr)
		}
		if again := portal(t, env, "catalog", "export"); again.stdout != first.stdout {
			t.Errorf("export | import /dev/stdin changed the catalog")
		}
		// An invalid file changes nothing.
		os.WriteFile(file, []byte(`{"groups": {"eng": "Engineering"}}`), 0o600)
		r := portal(t, env, "catalog", "import", file)
		if r.code != 1 || !strings.Contains(r.stderr, "groups.eng") {
			t.Errorf("invalid import: exit %d %q", r.code, r.stderr)
		}
		if again := portal(t, env, "catalog", "export"); again.stdout != first.stdout {
			t.Errorf("an invalid import changed the catalog")
		}
	})
}

func TestMigrate(t *testing.T) {
	eachDatabaseURL(t, func(t *testing.T, dbURL string) {
		for range 2 {
			if r := portal(t, []string{"DATABASE_URL=" + dbURL}, "migrate"); r.code != 0 {
				t.Fatalf("migrate: exit %d %s", r.code, r.stderr)
			}
		}
	})
}

func TestDemoServesAndStopsOnInterrupt(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, portalBin, "demo", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the demo URL: %v\n%s", err, stderr.String())
	}
	base := strings.TrimSpace(line)
	// Ready means the first reconcile against the simulated tailnet succeeded.
	waitFor(t, 30*time.Second, func() bool {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil && res.StatusCode == 200
	})
	res, err := http.Get(base + "/")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET / = %v %v", res, err)
	}
	res.Body.Close()
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("demo did not stop cleanly on Ctrl-C: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"alice@example.com", "simulated Okta", "simulated tailnet"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("demo banner lacks %q:\n%s", want, stderr.String())
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
