package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// lifecycleRequest is the API's Request with the lifecycle's fields.
type lifecycleRequest struct {
	ID        int64  `json:"id"`
	Requester string `json:"requester"`
	Status    string `json:"status"`
	Extends   *int64 `json:"extends"`
	Approvals []struct {
		By       string  `json:"by"`
		Duration *string `json:"duration"`
	} `json:"approvals"`
	Grant *struct {
		ID        int64     `json:"id"`
		StartsAt  time.Time `json:"startsAt"`
		ExpiresAt time.Time `json:"expiresAt"`
	} `json:"grant"`
}

// lasts reports whether a grant from start to end lasts d (ends are rounded
// up to a whole second).
func lasts(start, end time.Time, d time.Duration) bool {
	got := end.Sub(start)
	return got >= d && got < d+time.Second
}

func TestInboxAndApproveFor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)
		id := idIn(t, `^request (\d+) for prod-db`, ok(t, p.as(alice), "request", "prod-db", "--for", "2h", "--reason", "incident 4711").stdout)

		r := ok(t, p.as(bob), "inbox")
		lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
		if len(lines) != 2 || !regexp.MustCompile(`^ID\s+REQUESTER\s+RESOURCE\s+FOR\s+AGE\s+REASON$`).MatchString(lines[0]) ||
			!regexp.MustCompile(`^`+id+`\s+alice@example\.com\s+prod-db\s+2h\s+just now\s+incident 4711$`).MatchString(lines[1]) {
			t.Errorf("access inbox as bob:\n%s", r)
		}
		var inbox []lifecycleRequest
		okJSON(t, p.as(carol), &inbox, "inbox")
		if len(inbox) != 1 || itoa(inbox[0].ID) != id || inbox[0].Status != "pending" || inbox[0].Requester != alice {
			t.Errorf("access inbox --json as carol = %+v", inbox)
		}
		// Nothing waits for the requester or for someone who approves nothing.
		for _, who := range []string{alice, mallory} {
			if r := ok(t, p.as(who), "inbox"); r.stdout != "" || r.stderr != "nothing waits for your decision\n" {
				t.Errorf("access inbox as %s: %s", who, r)
			}
			if r := ok(t, p.as(who), "inbox", "--json"); strings.TrimSpace(r.stdout) != "[]" {
				t.Errorf("access inbox --json as %s: %s", who, r)
			}
		}

		// bob approves it for 30 minutes instead of two hours.
		failsWith(t, p.as(bob), 1, []string{"access: refused (400): duration 5h is longer than the maximum 4h for prod-db"}, "approve", id, "--for", "5h")
		var approved lifecycleRequest
		okJSON(t, p.as(bob), &approved, "approve", id, "--for", "30m", "--comment", "half an hour")
		if approved.Status != "approved" || approved.Grant == nil || !lasts(approved.Grant.StartsAt, approved.Grant.ExpiresAt, 30*time.Minute) ||
			len(approved.Approvals) != 1 || approved.Approvals[0].Duration == nil || *approved.Approvals[0].Duration != "30m" {
			t.Errorf("approved for 30m: %+v (grant %+v)", approved, approved.Grant)
		}
		if r := ok(t, p.as(carol), "inbox"); r.stdout != "" {
			t.Errorf("carol's inbox after bob's approval: %s", r)
		}

		// The table form of approve says what it did.
		id2 := idIn(t, `^request (\d+) for prod-db`, ok(t, p.as(alice), "request", "prod-db", "--for", "1h", "--reason", "again").stdout)
		r = ok(t, p.as(carol), "approve", id2, "--for", "45m")
		if !regexp.MustCompile(`^approved request ` + id2 + `: prod-db for alice@example\.com \(1h\); status approved; grant \d+ until \d{4}-\d\d-\d\d \d\d:\d\d UTC\n$`).MatchString(r.stdout) {
			t.Errorf("access approve --for 45m: %s", r)
		}
	})
}

func TestExtendWait(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)

		// staging is auto-approved for alice: so is its extension.
		var first lifecycleRequest
		okJSON(t, p.as(alice), &first, "request", "staging", "--for", "30m", "--wait")
		gid := itoa(first.Grant.ID)
		r := ok(t, p.as(alice), "extend", gid, "--for", "2h", "--reason", "the rollout is slow", "--wait")
		if !regexp.MustCompile(`^access extended: staging \(group:jit-staging\) until \d{4}-\d\d-\d\d \d\d:\d\d UTC, (2h|1h59m|1h58m) left; grant ` + gid + `\n$`).MatchString(r.stdout) {
			t.Errorf("extend --wait (auto-approved): %s", r)
		}
		var g grants.Grant
		if err := db.Where("id = ?", first.Grant.ID).Take(&g).Error; err != nil || !g.ExpiresAt.After(first.Grant.ExpiresAt.Add(time.Hour)) {
			t.Errorf("the grant after the extension = %+v, %v", g, err)
		}

		// prod-db needs an approver: --wait waits for one, who shortens the
		// 3h asked to 2h.
		var prod lifecycleRequest
		run := start(t, p.as(alice), "--json", "request", "prod-db", "--for", "1h", "--reason", "migration", "--wait")
		reqID := idIn(t, `^request (\d+) for prod-db: waiting for approval…$`, run.waitLine("waiting for approval"))
		ok(t, p.as(bob), "approve", reqID)
		res := run.wait()
		if res.code != 0 || json.Unmarshal([]byte(res.stdout), &prod) != nil || prod.Grant == nil {
			t.Fatalf("request --wait: %s", res)
		}
		pg := itoa(prod.Grant.ID)
		ext := start(t, p.as(alice), "extend", pg, "--for", "3h", "--reason", "it runs long", "--wait")
		extID := idIn(t, `^request (\d+) for prod-db: waiting for approval…$`, ext.waitLine("waiting for approval"))
		var inbox []lifecycleRequest
		okJSON(t, p.as(carol), &inbox, "inbox")
		if len(inbox) != 1 || itoa(inbox[0].ID) != extID || inbox[0].Extends == nil || itoa(*inbox[0].Extends) != pg {
			t.Errorf("carol's inbox = %+v, want the extension of grant %s", inbox, pg)
		}
		if r := ok(t, p.as(carol), "inbox"); !strings.Contains(r.stdout, "prod-db (extends grant "+pg+")") {
			t.Errorf("access inbox does not say it is an extension: %s", r)
		}
		var approved lifecycleRequest
		okJSON(t, p.as(carol), &approved, "approve", extID, "--for", "2h")
		res = ext.wait()
		if res.code != 0 || !regexp.MustCompile(`^access extended: prod-db \(group:jit-prod-db\) until .*, (2h|1h59m) left; grant `+pg+`\n$`).MatchString(res.stdout) {
			t.Errorf("extend --wait after carol's approval: %s", res)
		}
		if approved.Grant == nil || itoa(approved.Grant.ID) != pg || !approved.Grant.StartsAt.Equal(prod.Grant.StartsAt) ||
			approved.Grant.ExpiresAt.Before(prod.Grant.ExpiresAt.Add(59*time.Minute)) {
			t.Errorf("approved extension's grant = %+v, want grant %s running on", approved.Grant, pg)
		}
		var n int64
		db.Model(&grants.Grant{}).Where("user_email = ? AND resource = ?", alice, "prod-db").Count(&n)
		if n != 1 {
			t.Errorf("alice has %d prod-db grants, want the one extended", n)
		}

		// Without --wait: the pending request, and its JSON names the grant.
		var pending lifecycleRequest
		okJSON(t, p.as(alice), &pending, "extend", pg, "--for", "1h", "--reason", "more")
		if pending.Status != "pending" || pending.Extends == nil || itoa(*pending.Extends) != pg {
			t.Errorf("extend --json = %+v", pending)
		}
		failsWith(t, p.as(bob), 1, []string{"access: not found (404): no grant " + pg}, "extend", pg, "--for", "1h", "--reason", "x")
	})
}
