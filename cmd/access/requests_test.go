package main

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// apiRequest is the Request the tests read from --json output.
type apiRequest struct {
	ID        int64  `json:"id"`
	Resource  string `json:"resource"`
	Requester string `json:"requester"`
	Duration  string `json:"duration"`
	Reason    string `json:"reason"`
	Status    string `json:"status"`
	Approvals []struct {
		By, Comment string
	} `json:"approvals"`
	Denial *struct {
		By, Comment string
	} `json:"denial"`
	Grant     *apiGrant  `json:"grant"`
	CreatedAt time.Time  `json:"createdAt"`
	DecidedAt *time.Time `json:"decidedAt"`
}

// apiGrant is the Grant the tests read from --json output.
type apiGrant struct {
	ID           int64      `json:"id"`
	RequestID    *int64     `json:"requestId"`
	Resource     string     `json:"resource"`
	User         string     `json:"user"`
	Group        string     `json:"group"`
	ExpiresAt    time.Time  `json:"expiresAt"`
	Status       string     `json:"status"`
	AppliedAt    *time.Time `json:"appliedAt"`
	RevokedBy    string     `json:"revokedBy"`
	RevokeReason string     `json:"revokeReason"`
}

// idIn extracts the first number matched by the group of re in s.
func idIn(t *testing.T, re, s string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%q does not match %s", s, re)
	}
	return m[1]
}

func TestRequestApproveDenyCancelRevoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)

		// Human mode: the id and the status, flags after the resource.
		r := ok(t, p.as(alice), "request", "prod-db", "--for", "2h", "--reason", "deploy the hotfix")
		if r.stderr != "" || !regexp.MustCompile(`^request \d+ for prod-db \(2h\): pending — waiting for approval\n$`).MatchString(r.stdout) {
			t.Fatalf("request = %s", r)
		}
		first := idIn(t, `^request (\d+) `, r.stdout)

		// An approver approves it: one line with the grant.
		r = ok(t, p.as(bob), "approve", first, "--comment", "go ahead")
		if !regexp.MustCompile(`^approved request ` + first + `: prod-db for alice@example\.com \(2h\); status approved; grant \d+ until \d{4}-\d\d-\d\d \d\d:\d\d UTC\n$`).MatchString(r.stdout) {
			t.Errorf("approve = %s", r)
		}
		grantID := idIn(t, `grant (\d+) until`, r.stdout)

		// The grantee revokes it.
		r = ok(t, p.as(alice), "revoke", "--reason", "done early", grantID)
		if r.stdout != "revoked grant "+grantID+": prod-db for alice@example.com (group:jit-prod-db); status revoked\n" {
			t.Errorf("revoke = %s", r)
		}

		// --json mode, flags before the resource; a Go duration is passed on as such.
		var req apiRequest
		okJSON(t, p.as(alice), &req, "request", "--for", "90m", "--reason", "look at the replica lag", "prod-db")
		if req.ID == 0 || req.Resource != "prod-db" || req.Requester != alice || req.Status != "pending" || req.Reason != "look at the replica lag" || req.Grant != nil {
			t.Errorf("request --json = %+v", req)
		}
		if d, err := time.ParseDuration(req.Duration); err != nil || d != 90*time.Minute {
			t.Errorf("duration = %q, want 90m", req.Duration)
		}
		r = ok(t, p.as(alice), "--json", "request", "staging", "--reason", "x")
		keys := jsonKeys(t, []byte(r.stdout))
		for _, k := range []string{"id", "resource", "requester", "duration", "reason", "status", "approvals", "grant", "createdAt", "decidedAt"} {
			if !slices.Contains(keys, k) {
				t.Errorf("request --json lacks %q: %s", k, r.stdout)
			}
		}

		// Deny in --json mode.
		var denied apiRequest
		okJSON(t, p.as(carol), &denied, "deny", itoa(req.ID), "--comment", "not during the freeze")
		if denied.Status != "denied" || denied.Denial == nil || denied.Denial.By != carol || denied.Denial.Comment != "not during the freeze" {
			t.Errorf("deny --json = %+v", denied)
		}
		// Deny in human mode, cancel in both.
		r = ok(t, p.as(alice), "request", "prod-db", "--reason", "again")
		third := idIn(t, `^request (\d+) `, r.stdout)
		if !strings.Contains(r.stdout, "(1h): pending") {
			t.Errorf("a request without --for gets the resource's default: %s", r)
		}
		r = ok(t, p.as(alice), "cancel", third)
		if r.stdout != "cancelled request "+third+" for prod-db; status cancelled\n" {
			t.Errorf("cancel = %s", r)
		}
		r = ok(t, p.as(alice), "request", "prod-db", "--reason", "and again")
		fourth := idIn(t, `^request (\d+) `, r.stdout)
		r = ok(t, p.as(bob), "deny", fourth)
		if r.stdout != "denied request "+fourth+": prod-db for alice@example.com (1h); status denied\n" {
			t.Errorf("deny = %s", r)
		}
		var cancelled apiRequest
		okJSON(t, p.as(alice), &cancelled, "request", "prod-db", "--reason", "last time")
		okJSON(t, p.as(alice), &cancelled, "cancel", itoa(cancelled.ID))
		if cancelled.Status != "cancelled" {
			t.Errorf("cancel --json = %+v", cancelled)
		}

		// Approve and revoke in --json mode.
		okJSON(t, p.as(alice), &req, "request", "prod-db", "--for", "30m", "--reason", "rotate keys")
		var approved apiRequest
		okJSON(t, p.as(bob), &approved, "approve", itoa(req.ID))
		if approved.Status != "approved" || len(approved.Approvals) != 1 || approved.Approvals[0].By != bob || approved.Grant == nil || approved.Grant.User != alice {
			t.Fatalf("approve --json = %+v", approved)
		}
		var revoked apiGrant
		okJSON(t, p.as(root), &revoked, "revoke", itoa(approved.Grant.ID), "--reason", "audit finding")
		if revoked.Status != "revoked" || revoked.RevokedBy != root || revoked.RevokeReason != "audit finding" {
			t.Errorf("revoke --json by an admin = %+v", revoked)
		}
	})
}

// TestRefusals: the API's refusals are one line on stderr with its message
// and exit 1.
func TestRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)
		r := ok(t, p.as(alice), "request", "prod-db", "--reason", "r")
		id := idIn(t, `^request (\d+) `, r.stdout)

		cases := []struct {
			name  string
			who   string
			args  []string
			wants []string
		}{
			{"not eligible", mallory, []string{"request", "prod-db", "--reason", "r"},
				[]string{"access: refused (403): prod-db may be requested only by members of"}},
			{"longer than staging allows", carol, []string{"request", "staging", "--for", "9h"},
				[]string{"access: refused (400): ", "8h"}},
			{"longer than allowed", alice, []string{"request", "prod-db", "--for", "5h", "--reason", "r"},
				[]string{"access: refused (400): ", "4h"}},
			{"no reason", alice, []string{"request", "prod-db", "--for", "1h"},
				[]string{"access: refused (400): prod-db requires a reason"}},
			{"already pending", alice, []string{"request", "prod-db", "--reason", "r"},
				[]string{"access: not possible now (409): your request " + id + " for prod-db is already pending"}},
			{"unknown resource", alice, []string{"request", "nope", "--reason", "r"},
				[]string{`access: not found (404): no resource "nope" in the catalog`}},
			{"own request", alice, []string{"approve", id},
				[]string{"access: refused (403): "}},
			{"not an approver", mallory, []string{"approve", id},
				[]string{"access: not found (404): "}},
			{"no such request", bob, []string{"deny", "999999"},
				[]string{"access: not found (404): "}},
			{"someone else's grant", mallory, []string{"revoke", "1"},
				[]string{"access: not found (404): "}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				failsWith(t, p.as(c.who), 1, c.wants, c.args...)
				failsWith(t, p.as(c.who), 1, c.wants, append([]string{"--json"}, c.args...)...)
			})
		}

		// A decided request cannot be decided again: 409.
		ok(t, p.as(bob), "deny", id)
		failsWith(t, p.as(carol), 1, []string{"access: not possible now (409): "}, "approve", id)
		// Nor cancelled.
		failsWith(t, p.as(alice), 1, []string{"access: not possible now (409): "}, "cancel", id)
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
