package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/sync/tailnetfake"
)

// replica is one `portal serve` process.
type replica struct {
	base   string // its URL
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

func startReplica(t *testing.T, env []string) *replica {
	t.Helper()
	// A free port for it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(portalBin, "serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PORTAL_ADDR=" + addr}, env...)
	r := &replica{base: "http://" + addr, cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-r.done
		if t.Failed() {
			t.Logf("replica %d log:\n%s", cmd.Process.Pid, r.stderr.String())
		}
	})
	return r
}

// Two replicas on one PostgreSQL database behave as one: one runs the
// background loops; when it is killed with SIGKILL the other takes over, and
// expiries and syncs go on with nothing lost or applied twice.
func TestReplicaFailoverOnPostgres(t *testing.T) {
	db, dbURL := dbtest.PostgresURL(t)
	okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "okta-token", RateLimitPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer closeOkta()
	seedDemoOkta(okta)
	tailnet, tailnetURL, closeTailnet, err := tailnetfake.Start(tailnetfake.Options{Tailnet: "example.com", APIKeys: []string{"tskey"}, Policy: demoPolicy})
	if err != nil {
		t.Fatal(err)
	}
	defer closeTailnet()
	catalog := filepath.Join(t.TempDir(), "catalog.hujson")
	os.WriteFile(catalog, demoCatalog, 0o600)

	// Two grants that expire a few seconds in, after the leader is gone.
	expires := time.Now().Add(8 * time.Second).UTC()
	for _, email := range []string{"alice@example.com", "erin@example.com"} {
		g := grants.Grant{Resource: "prod-db", UserEmail: email, GroupName: "group:jit-prod-db", StartsAt: time.Now().UTC(), ExpiresAt: expires, Status: grants.GrantActive}
		if err := db.Create(&g).Error; err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"DATABASE_URL=" + dbURL, "PORTAL_CATALOG=" + catalog,
		"PORTAL_SYNC_INTERVAL=500ms", "PORTAL_LEASE_TTL=2s",
		"OKTA_ORG_URL=" + oktaURL, "OKTA_API_TOKEN=okta-token",
		"OIDC_ISSUER=" + oktaURL, "OIDC_CLIENT_ID=c", "OIDC_CLIENT_SECRET=s",
		"TAILSCALE_API_URL=" + tailnetURL, "TAILSCALE_API_KEY=tskey",
	}
	replicas := map[int]*replica{}
	for range 2 {
		r := startReplica(t, env)
		replicas[r.cmd.Process.Pid] = r
	}
	holder := func() int {
		h, _ := grants.NewStore(db).LeaseHolder(context.Background(), "background", time.Now())
		parts := strings.Split(h, "/")
		if len(parts) < 2 {
			return 0
		}
		pid, _ := strconv.Atoi(parts[len(parts)-2])
		return pid
	}
	var leader int
	waitFor(t, 30*time.Second, func() bool { leader = holder(); return leader != 0 })
	if replicas[leader] == nil {
		t.Fatalf("lease holder pid %d is not one of the replicas", leader)
	}
	jit := func() string { text, _ := tailnet.Policy(); return jitGroup(string(text)) }
	// The grants are applied and the first Okta poll is in (dave is only in
	// synced groups, and alice must be known as an admin below).
	waitFor(t, 30*time.Second, func() bool {
		text, _ := tailnet.Policy()
		return strings.Contains(jit(), "alice@example.com") && strings.Contains(jit(), "erin@example.com") &&
			strings.Contains(string(text), "dave@example.com")
	})

	// A grant made through the replica that does not run the loops reaches
	// the policy at once: the leader hears of it through PostgreSQL.
	var follower *replica
	for pid, r := range replicas {
		if pid != leader {
			follower = r
		}
	}
	waitFor(t, 30*time.Second, func() bool {
		res, err := http.Get(follower.base + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil && res.StatusCode == 200
	})
	admin, _, err := grants.NewStore(db).CreateToken(context.Background(), "alice@example.com", "test", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", follower.base+"/api/v1/grants", strings.NewReader(`{"resource":"prod-db","user":"bob@example.com","duration":"1h","reason":"failover drill"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	granted := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("direct grant through the follower: %v %v", res, err)
	}
	res.Body.Close()
	waitFor(t, 30*time.Second, func() bool { return strings.Contains(jit(), "bob@example.com") })
	if lag := time.Since(granted); lag > 2*time.Second {
		t.Errorf("a grant made on the follower took %s to reach the policy", lag)
	} else {
		t.Logf("grant made on the follower → policy: %s", lag.Round(time.Millisecond))
	}

	// kill -9 the leader.
	killed := time.Now()
	replicas[leader].cmd.Process.Signal(syscall.SIGKILL)
	replicas[leader].done <- <-replicas[leader].done // waited; leave it for the cleanup
	var survivor int
	waitFor(t, 30*time.Second, func() bool { survivor = holder(); return survivor != 0 && survivor != leader })
	t.Logf("takeover after SIGKILL of the leader: %s (lease TTL 2s)", time.Since(killed).Round(time.Millisecond))

	// Syncs go on: a change in Okta reaches the policy through the survivor.
	if err := okta.SetUserStatus("dave@example.com", oktafake.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { text, _ := tailnet.Policy(); return !strings.Contains(string(text), "dave@example.com") })
	// Expiries go on: both grants expire and leave the policy.
	waitFor(t, 30*time.Second, func() bool {
		return !strings.Contains(jit(), "alice@example.com") && !strings.Contains(jit(), "erin@example.com")
	})
	t.Logf("grants left the policy %s after their expiry", time.Since(expires).Round(time.Millisecond))

	// Nothing lost, nothing twice.
	// The reconciler records a removal once the tailnet confirmed the
	// policy write, just after the policy shows it.
	for action, want := range map[string]int64{"grant.applied": 3, "grant.expire": 2, "grant.removed": 2} {
		var n int64
		waitFor(t, 20*time.Second, func() bool {
			db.Model(&grants.AuditEvent{}).Where("action = ?", action).Count(&n)
			return n >= want
		})
		if n != want {
			t.Errorf("%d %s audit events, want exactly %d", n, action, want)
		}
	}
	if n, err := grants.VerifyAudit(context.Background(), db.DB); err != nil {
		t.Errorf("audit chain after failover (%d events): %v", n, err)
	}

	// Graceful stop: SIGTERM, exit 0, the lease released at once.
	s := replicas[survivor]
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Errorf("survivor after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("survivor did not stop within 30s of SIGTERM")
	}
	if h := holder(); h != 0 {
		t.Errorf("lease still held by %d after a graceful stop", h)
	}
}

// A portal started after the lease holder was killed with SIGKILL takes the
// lease at once, without waiting for PORTAL_LEASE_TTL: the lock dies with its
// holder (a PostgreSQL session lock, a file lock beside SQLite). Measured from
// the new process's start to its first policy write.
func TestTakeoverAfterSIGKILL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbDB) {
		dbURL := db.URL
		okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "okta-token", RateLimitPerMinute: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer closeOkta()
		seedDemoOkta(okta)
		tailnet, tailnetURL, closeTailnet, err := tailnetfake.Start(tailnetfake.Options{Tailnet: "example.com", APIKeys: []string{"tskey"}, Policy: demoPolicy})
		if err != nil {
			t.Fatal(err)
		}
		defer closeTailnet()
		catalog := filepath.Join(t.TempDir(), "catalog.hujson")
		if err := os.WriteFile(catalog, demoCatalog, 0o600); err != nil {
			t.Fatal(err)
		}
		env := []string{
			"DATABASE_URL=" + dbURL, "PORTAL_CATALOG=" + catalog,
			"PORTAL_SYNC_INTERVAL=1m", "PORTAL_LEASE_TTL=30s",
			"OKTA_ORG_URL=" + oktaURL, "OKTA_API_TOKEN=okta-token",
			"OIDC_ISSUER=" + oktaURL, "OIDC_CLIENT_ID=c", "OIDC_CLIENT_SECRET=s",
			"TAILSCALE_API_URL=" + tailnetURL, "TAILSCALE_API_KEY=tskey",
		}
		first := startReplica(t, env)
		// The first replica holds the lease and has read Okta (dave is only
		// in synced groups).
		waitFor(t, 30*time.Second, func() bool { text, _ := tailnet.Policy(); return strings.Contains(string(text), "dave@example.com") })
		first.cmd.Process.Signal(syscall.SIGKILL)
		first.done <- <-first.done

		// A grant nobody has applied yet: only a replica holding the lease
		// puts bob in the policy.
		g := grants.Grant{Resource: "prod-db", UserEmail: "bob@example.com", GroupName: "group:jit-prod-db", StartsAt: time.Now().UTC(), ExpiresAt: time.Now().Add(time.Hour).UTC(), Status: grants.GrantActive}
		if err := db.Create(&g).Error; err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		startReplica(t, env)
		waitFor(t, 30*time.Second, func() bool {
			text, _ := tailnet.Policy()
			return strings.Contains(jitGroup(string(text)), "bob@example.com")
		})
		took := time.Since(started)
		t.Logf("new process start → its first policy write, the old holder killed with SIGKILL: %s (PORTAL_LEASE_TTL=30s)", took.Round(time.Millisecond))
		if took > 3*time.Second {
			t.Errorf("the new process took %s to reconcile after the holder was killed", took)
		}
	})
}

// On a fresh database /readyz says ready only once the policy reflects a
// complete read of Okta: a reconcile that ran before the first directory
// read (Okta answering 500s at first) does not count.
func TestReadyOnlyOnceSynced(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbDB) {
		okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "okta-token", RateLimitPerMinute: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer closeOkta()
		seedDemoOkta(okta)
		okta.FailNext(4, http.StatusInternalServerError) // the first poll retries for about 2s
		tailnet, tailnetURL, closeTailnet, err := tailnetfake.Start(tailnetfake.Options{Tailnet: "example.com", APIKeys: []string{"tskey"}, Policy: demoPolicy})
		if err != nil {
			t.Fatal(err)
		}
		defer closeTailnet()
		catalog := filepath.Join(t.TempDir(), "catalog.hujson")
		if err := os.WriteFile(catalog, demoCatalog, 0o600); err != nil {
			t.Fatal(err)
		}
		r := startReplica(t, []string{
			"DATABASE_URL=" + db.URL, "PORTAL_CATALOG=" + catalog, "PORTAL_SYNC_INTERVAL=1m",
			"OKTA_ORG_URL=" + oktaURL, "OKTA_API_TOKEN=okta-token",
			"OIDC_ISSUER=" + oktaURL, "OIDC_CLIENT_ID=c", "OIDC_CLIENT_SECRET=s",
			"TAILSCALE_API_URL=" + tailnetURL, "TAILSCALE_API_KEY=tskey",
		})
		waitFor(t, 30*time.Second, func() bool {
			res, err := http.Get(r.base + "/readyz")
			if err != nil {
				return false
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return false
			}
			// Ready: the synced groups must be in the policy by now.
			if text, _ := tailnet.Policy(); !strings.Contains(string(text), "dave@example.com") {
				t.Fatalf("/readyz said ready while the synced groups are not in the policy:\n%s", text)
			}
			return true
		})
	})
}
