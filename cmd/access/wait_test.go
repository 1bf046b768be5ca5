package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// The grants in these tests become applied the real way: the web server
// wakes the real reconciler (sync.NewReconciler), which writes the
// simulated tailnet's policy and stamps appliedAt.

func TestRequestWaitAutoApprovedUntilApplied(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)
		r := ok(t, p.as(alice), "request", "staging", "--for", "30m", "--wait")
		if !regexp.MustCompile(`^access granted: staging \(group:jit-staging\) until \d{4}-\d\d-\d\d \d\d:\d\d UTC, (29m\d\ds|30m0s) left; grant \d+\n$`).MatchString(r.stdout) {
			t.Errorf("request --wait = %s", r)
		}
		if !strings.Contains(r.stderr, "approved; waiting for the tailnet…\n") {
			t.Errorf("no progress on stderr: %s", r)
		}
		if got := p.tailnetGroup("group:jit-staging"); !slices.Equal(got, []string{alice}) {
			t.Errorf("the tailnet's group:jit-staging = %q after the CLI said it was applied", got)
		}
	})
}

func TestRequestWaitForApproval(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)
		run := start(t, p.as(alice), "request", "prod-db", "--wait", "--json", "--for", "2h", "--reason", "incident 4711")
		line := run.waitLine("waiting for approval")
		id := idIn(t, `^request (\d+) for prod-db: waiting for approval…$`, line)
		if got := p.tailnetGroup("group:jit-prod-db"); len(got) != 0 {
			t.Fatalf("group:jit-prod-db = %q before any approval", got)
		}

		ok(t, p.as(bob), "approve", id)
		res := run.wait()
		if res.code != 0 {
			t.Fatalf("request --wait after approval: %s", res)
		}
		var req apiRequest
		if err := json.Unmarshal([]byte(res.stdout), &req); err != nil {
			t.Fatalf("stdout is not the request's JSON: %v\n%s", err, res)
		}
		if itoa(req.ID) != id || req.Status != "approved" || req.Grant == nil || req.Grant.AppliedAt == nil || req.Grant.Group != "group:jit-prod-db" {
			t.Errorf("final request = %+v", req)
		}
		// Whether the CLI saw the approved-but-not-applied state depends on
		// when it polled; either way stderr holds progress only.
		for _, l := range strings.Split(strings.TrimRight(res.stderr, "\n"), "\n") {
			if l != line && l != "approved; waiting for the tailnet…" {
				t.Errorf("unexpected line on stderr: %q", l)
			}
		}
		if got := p.tailnetGroup("group:jit-prod-db"); !slices.Equal(got, []string{alice}) {
			t.Errorf("the tailnet's group:jit-prod-db = %q after the CLI said it was applied", got)
		}
	})
}

func TestRequestWaitDenied(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)
		run := start(t, p.as(alice), "request", "prod-db", "--reason", "curiosity", "--wait")
		id := idIn(t, `^request (\d+) for prod-db: waiting for approval…$`, run.waitLine("waiting for approval"))
		ok(t, p.as(carol), "deny", id, "--comment", "not during the freeze")
		res := run.wait()
		if res.code != 1 || res.stdout != "" {
			t.Fatalf("request --wait denied: %s", res)
		}
		lines := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")
		if last := lines[len(lines)-1]; last != "access: request "+id+" for prod-db was denied by carol@example.com: not during the freeze" {
			t.Errorf("last line = %q", last)
		}
	})
}

func TestRequestWaitCancelledElsewhere(t *testing.T) {
	db := dbtest.SQLite(t)
	p := newTestPortal(t, db)
	run := start(t, p.as(alice), "--json", "request", "prod-db", "--reason", "r", "--wait")
	id := idIn(t, `^request (\d+) `, run.waitLine("waiting for approval"))
	ok(t, p.as(alice), "cancel", id)
	res := run.wait()
	if res.code != 1 || !strings.HasSuffix(res.stderr, "access: request "+id+" for prod-db was cancelled\n") {
		t.Fatalf("request --wait cancelled: %s", res)
	}
	var req apiRequest // with --json, stdout still holds the request as last seen
	if err := json.Unmarshal([]byte(res.stdout), &req); err != nil || req.Status != "cancelled" {
		t.Errorf("stdout = %q (%v)", res.stdout, err)
	}
}

func TestRequestWaitTimesOut(t *testing.T) {
	db := dbtest.SQLite(t)
	p := newTestPortal(t, db)
	r := access(t, p.as(alice), "request", "prod-db", "--reason", "r", "--wait", "--timeout", "1s")
	if r.code != 1 || !regexp.MustCompile(`access: gave up waiting after 1s: request \d+ is still pending\n$`).MatchString(r.stderr) {
		t.Errorf("request --wait --timeout 1s = %s", r)
	}
}
