package main

import (
	"bytes"
	"context"
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
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

func startReplica(t *testing.T, env []string) *replica {
	t.Helper()
	cmd := exec.Command(portalBin, "serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	r := &replica{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
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
		"DATABASE_URL=" + dbURL, "PORTAL_CATALOG=" + catalog, "PORTAL_ADDR=127.0.0.1:0",
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
		h, _ := grants.LeaseHolder(context.Background(), db.DB, "background", time.Now())
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
	waitFor(t, 30*time.Second, func() bool {
		return strings.Contains(jit(), "alice@example.com") && strings.Contains(jit(), "erin@example.com")
	})

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
	waitFor(t, 30*time.Second, func() bool { return !strings.Contains(jit(), "@") })
	t.Logf("grants left the policy %s after their expiry", time.Since(expires).Round(time.Millisecond))

	// Nothing lost, nothing twice.
	for _, action := range []string{"grant.applied", "grant.expire", "grant.removed"} {
		var n int64
		db.Model(&grants.AuditEvent{}).Where("action = ?", action).Count(&n)
		if n != 2 {
			t.Errorf("%d %s audit events, want exactly 2", n, action)
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
