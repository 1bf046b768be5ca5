package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// jitCatalog has a resource with every rule (prod-db) and one approved by
// the admins with two approvals (staging).
const jitCatalog = `{
  "admins": ["Portal Admins"],
  "resources": {
    "prod-db": {
      "description": "Production Aurora Postgres",
      "group": "group:jit-prod-db",
      "eligible": ["Engineering"],
      "approvers": ["Security"],
      "autoApprove": ["On-Call"],
      "maxDuration": "4h",
      "defaultDuration": "1h",
      "requireReason": true,
    },
    "staging": {"group": "group:jit-staging", "approvals": 2},
  },
}`

// jitEnv is a portal with the JIT catalog and a cast of people, each with
// an API token.
type jitEnv struct {
	*testPortal
	tokens map[string]string
}

// jitPeople are the cast: name -> email, Okta status, groups.
var jitPeople = []struct {
	name, status string
	groups       []string
}{
	{"alice", grants.StatusActive, []string{"Portal Admins", "Engineering"}},
	{"adam", grants.StatusActive, []string{"Portal Admins"}},
	{"ada", grants.StatusActive, []string{"Portal Admins"}},
	{"bob", grants.StatusActive, []string{"Engineering"}},
	{"carol", grants.StatusActive, []string{"Security"}},
	{"sam", grants.StatusActive, []string{"Security"}},
	{"dave", grants.StatusActive, []string{"Engineering", "On-Call"}},
	{"erin", grants.StatusActive, []string{"Finance"}},
	{"frank", grants.StatusSuspended, []string{"Engineering", "Security"}},
}

func email(name string) string { return name + "@example.com" }

func newJIT(t *testing.T, db *database.DB) *jitEnv {
	t.Helper()
	p := newTestPortal(t, db, nil)
	cat, err := grants.ParseCatalog("jit.hujson", []byte(jitCatalog))
	if err != nil {
		t.Fatal(err)
	}
	p.catalog = cat
	e := &jitEnv{testPortal: p, tokens: map[string]string{}}
	for i, person := range jitPeople {
		addUser(t, db, fmt.Sprintf("u%d", i), email(person.name), person.status, person.groups...)
		e.tokens[person.name] = token(t, db, email(person.name), 0, p.now)
	}
	return e
}

// call sends an API request as who ("" = anonymous) and returns the status
// and body.
func (e *jitEnv) call(t *testing.T, who, method, path, body string) (int, string) {
	t.Helper()
	var header []string
	if body != "" {
		header = []string{"Content-Type", "application/json"}
	}
	res, b := do(t, method, e.srv.URL+path, e.tokens[who], body, header...)
	if ct := res.Header.Get("Content-Type"); strings.HasPrefix(path, "/api/") && !strings.HasPrefix(ct, "application/json") && res.StatusCode != 200 {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return res.StatusCode, b
}

// must calls and fails the test unless the status is want; it decodes the
// body into out when out is not nil.
func (e *jitEnv) must(t *testing.T, want int, who, method, path, body string, out any) {
	t.Helper()
	code, b := e.call(t, who, method, path, body)
	if code != want {
		t.Fatalf("%s %s %s as %s = %d %s, want %d", method, path, body, who, code, b, want)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(b), out); err != nil {
			t.Fatalf("decoding %s: %v", b, err)
		}
	}
}

// refused checks an error answer: its status and that {"error"} holds msg.
func (e *jitEnv) refused(t *testing.T, want int, msg, who, method, path, body string) {
	t.Helper()
	code, b := e.call(t, who, method, path, body)
	var er struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(b), &er); err != nil || code != want || !strings.Contains(er.Error, msg) {
		t.Errorf("%s %s %s as %s = %d %s, want %d with an error containing %q", method, path, body, who, code, b, want, msg)
	}
}

// apiRequest is the API's Request.
type apiRequest struct {
	ID        int64          `json:"id"`
	Resource  string         `json:"resource"`
	Requester string         `json:"requester"`
	Duration  string         `json:"duration"`
	Reason    string         `json:"reason"`
	Status    string         `json:"status"`
	Approvals []apiApproval  `json:"approvals"`
	Denial    *apiApproval   `json:"denial"`
	Grant     *apiGrant      `json:"grant"`
	CreatedAt time.Time      `json:"createdAt"`
	DecidedAt *time.Time     `json:"decidedAt"`
	Raw       map[string]any `json:"-"`
}

type apiApproval struct {
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment"`
}

// apiGrant is the API's Grant.
type apiGrant struct {
	ID           int64      `json:"id"`
	RequestID    *int64     `json:"requestId"`
	Resource     string     `json:"resource"`
	User         string     `json:"user"`
	Group        string     `json:"group"`
	StartsAt     time.Time  `json:"startsAt"`
	ExpiresAt    time.Time  `json:"expiresAt"`
	Status       string     `json:"status"`
	AppliedAt    *time.Time `json:"appliedAt"`
	RemovedAt    *time.Time `json:"removedAt"`
	RevokedBy    string     `json:"revokedBy"`
	RevokeReason string     `json:"revokeReason"`
	GrantedBy    string     `json:"grantedBy"`
}

// request files a request as who and returns it.
func (e *jitEnv) request(t *testing.T, who, body string) apiRequest {
	t.Helper()
	var r apiRequest
	e.must(t, http.StatusCreated, who, "POST", "/api/v1/requests", body, &r)
	return r
}

func path(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// auditActions lists the actions of the audit log, oldest first.
func auditActions(t *testing.T, db *database.DB) []string {
	t.Helper()
	var evs []grants.AuditEvent
	if err := db.Order("id").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Action != "token.create" {
			out = append(out, ev.Action+" "+ev.Target)
		}
	}
	return out
}

func TestRequestShapeAndDefaults(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		code, body := e.call(t, "bob", "POST", "/api/v1/requests", `{"resource":"prod-db","reason":"incident 42"}`)
		if code != http.StatusCreated {
			t.Fatalf("create = %d %s", code, body)
		}
		var raw map[string]any
		json.Unmarshal([]byte(body), &raw)
		for _, k := range []string{"id", "resource", "requester", "duration", "reason", "status", "approvals", "grant", "createdAt", "decidedAt"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("Request lacks %q: %s", k, body)
			}
		}
		if raw["grant"] != nil || raw["decidedAt"] != nil {
			t.Errorf("pending request has grant/decidedAt: %s", body)
		}
		if a, ok := raw["approvals"].([]any); !ok || len(a) != 0 {
			t.Errorf("approvals = %v, want []", raw["approvals"])
		}
		if created, _ := raw["createdAt"].(string); created != "2026-11-21T12:00:00Z" {
			t.Errorf("createdAt = %q, want RFC 3339 UTC", created)
		}
		var r apiRequest
		json.Unmarshal([]byte(body), &r)
		if r.Resource != "prod-db" || r.Requester != "bob@example.com" || r.Duration != "1h" || r.Reason != "incident 42" || r.Status != "pending" {
			t.Errorf("request = %+v", r)
		}
		r2 := e.request(t, "bob", `{"resource":"staging","duration":"90m"}`)
		if r2.Duration != "1h30m" {
			t.Errorf("duration 90m shown as %q", r2.Duration)
		}
		if e.wakes != 2 {
			t.Errorf("wakes = %d after two requests, want 2", e.wakes)
		}
		if got := auditActions(t, db); strings.Join(got, ",") != fmt.Sprintf("request.create request:%d,request.create request:%d", r.ID, r2.ID) {
			t.Errorf("audit = %v", got)
		}
	})
}

func TestRequestRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		cases := []struct {
			name, who, body string
			code            int
			msg             string
		}{
			{"unknown resource", "bob", `{"resource":"nope","reason":"x"}`, 404, `no resource "nope"`},
			{"not eligible", "erin", `{"resource":"prod-db","reason":"x"}`, 403, `members of "Engineering"`},
			{"reason required", "bob", `{"resource":"prod-db","duration":"1h"}`, 400, "requires a reason"},
			{"blank reason", "bob", `{"resource":"prod-db","reason":"   "}`, 400, "requires a reason"},
			{"too long", "bob", `{"resource":"prod-db","duration":"5h","reason":"x"}`, 400, "5h is longer than the maximum 4h for prod-db"},
			{"negative", "bob", `{"resource":"prod-db","duration":"-1h","reason":"x"}`, 400, "must be positive"},
			{"zero", "bob", `{"resource":"prod-db","duration":"0s","reason":"x"}`, 400, "must be positive"},
			{"not a duration", "bob", `{"resource":"prod-db","duration":"two hours","reason":"x"}`, 400, "invalid duration"},
			{"fractional seconds", "bob", `{"resource":"prod-db","duration":"1500ms","reason":"x"}`, 400, "whole number of seconds"},
			{"missing resource", "bob", `{"reason":"x"}`, 400, "resource is required"},
			{"unknown field", "bob", `{"resource":"prod-db","reason":"x","colour":"red"}`, 400, "unknown field"},
			{"duration as number", "bob", `{"resource":"prod-db","reason":"x","duration":3600}`, 400, "invalid JSON"},
			{"two values", "bob", `{"resource":"prod-db","reason":"x"} {}`, 400, "more than one"},
			{"suspended", "frank", `{"resource":"prod-db","reason":"x"}`, 403, "SUSPENDED"},
			{"anonymous", "", `{"resource":"prod-db","reason":"x"}`, 401, "sign in"},
			{"reason too long", "bob", `{"resource":"prod-db","reason":"` + strings.Repeat("x", 2001) + `"}`, 400, "too long"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e.refused(t, c.code, c.msg, c.who, "POST", "/api/v1/requests", c.body)
			})
		}
		var n int64
		db.Model(&grants.Request{}).Count(&n)
		if n != 0 {
			t.Errorf("%d requests stored by refused calls", n)
		}

		// The maximum itself is fine; a second pending one is a conflict.
		r := e.request(t, "bob", `{"resource":"prod-db","duration":"4h","reason":"migration"}`)
		e.refused(t, 409, fmt.Sprintf("request %d for prod-db is already pending", r.ID), "bob", "POST", "/api/v1/requests", `{"resource":"prod-db","reason":"again"}`)
	})
}

func TestRequestBodyLimit(t *testing.T) {
	db := dbtest.SQLite(t)
	e := newJIT(t, db)
	big := `{"resource":"prod-db","reason":"` + strings.Repeat("x", 65<<10) + `"}`
	e.refused(t, http.StatusRequestEntityTooLarge, "", "bob", "POST", "/api/v1/requests", big)
	e.refused(t, http.StatusRequestEntityTooLarge, "", "carol", "POST", "/api/v1/requests/1/approve", `{"comment":"`+strings.Repeat("x", 65<<10)+`"}`)
}

func TestApproveFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		r := e.request(t, "bob", `{"resource":"prod-db","duration":"2h","reason":"incident 42"}`)
		approve := path("/api/v1/requests/%d/approve", r.ID)

		// Who may see it.
		e.must(t, 200, "bob", "GET", path("/api/v1/requests/%d", r.ID), "", nil)
		e.must(t, 200, "carol", "GET", path("/api/v1/requests/%d", r.ID), "", nil)
		e.must(t, 200, "adam", "GET", path("/api/v1/requests/%d", r.ID), "", nil)
		e.refused(t, 404, fmt.Sprintf("no request %d", r.ID), "erin", "GET", path("/api/v1/requests/%d", r.ID), "")
		e.refused(t, 404, "no request 9999", "bob", "GET", "/api/v1/requests/9999", "")
		e.refused(t, 400, "positive whole number", "bob", "GET", "/api/v1/requests/abc", "")
		e.refused(t, 400, "positive whole number", "bob", "GET", "/api/v1/requests/0", "")
		e.refused(t, 400, "positive whole number", "carol", "POST", "/api/v1/requests/-3/approve", "{}")

		// Who may approve it.
		e.refused(t, 403, "you cannot approve your own request", "bob", "POST", approve, `{}`)
		e.refused(t, 404, fmt.Sprintf("no request %d", r.ID), "erin", "POST", approve, `{}`)
		e.refused(t, 403, `approved by members of "Security"`, "alice", "POST", approve, `{}`)
		e.refused(t, 403, "SUSPENDED", "frank", "POST", approve, `{}`)
		e.refused(t, 400, "unknown field", "carol", "POST", approve, `{"comment":"ok","approve":true}`)

		e.now = e.now.Add(90 * time.Second)
		wakes := e.wakes
		var got apiRequest
		e.must(t, 200, "carol", "POST", approve, `{"comment":"go ahead"}`, &got)
		if got.Status != "approved" || got.DecidedAt == nil || !got.DecidedAt.Equal(e.now) {
			t.Errorf("approved request = %+v", got)
		}
		if len(got.Approvals) != 1 || got.Approvals[0].By != "carol@example.com" || got.Approvals[0].Comment != "go ahead" || !got.Approvals[0].At.Equal(e.now) {
			t.Errorf("approvals = %+v", got.Approvals)
		}
		g := got.Grant
		if g == nil || g.User != "bob@example.com" || g.Group != "group:jit-prod-db" || g.Resource != "prod-db" || g.Status != "active" ||
			g.RequestID == nil || *g.RequestID != r.ID || g.AppliedAt != nil || g.RemovedAt != nil || g.GrantedBy != "carol@example.com" {
			t.Fatalf("grant = %+v", g)
		}
		if !g.StartsAt.Equal(e.now) || !g.ExpiresAt.Equal(e.now.Add(2*time.Hour)) {
			t.Errorf("grant runs %s – %s, want %s + 2h", g.StartsAt, g.ExpiresAt, e.now)
		}
		if e.wakes != wakes+1 {
			t.Errorf("the approval did not wake the reconciler")
		}

		// A decided request stays decided.
		e.refused(t, 409, "is approved, not pending", "sam", "POST", approve, `{}`)
		e.refused(t, 409, "is approved, not pending", "sam", "POST", path("/api/v1/requests/%d/deny", r.ID), `{}`)
		e.refused(t, 409, "is approved, not pending", "bob", "POST", path("/api/v1/requests/%d/cancel", r.ID), ``)

		want := []string{
			fmt.Sprintf("request.create request:%d", r.ID),
			fmt.Sprintf("request.self-approval-refused request:%d", r.ID), // bob tried his own
			fmt.Sprintf("grant.create grant:%d", g.ID),
			fmt.Sprintf("request.approve request:%d", r.ID),
		}
		if got := auditActions(t, db); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("audit = %v, want %v", got, want)
		}
		if _, err := grants.VerifyAudit(t.Context(), db.DB); err != nil {
			t.Error(err)
		}
	})
}

func TestSelfApprovalRefusedEvenForAdmins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		// staging is approved by the admins; alice is one, and asks.
		r := e.request(t, "alice", `{"resource":"staging"}`)
		e.refused(t, 403, "you cannot approve your own request", "alice", "POST", path("/api/v1/requests/%d/approve", r.ID), `{}`)
		e.refused(t, 403, "cancel it instead", "alice", "POST", path("/api/v1/requests/%d/deny", r.ID), `{}`)
		var got apiRequest
		e.must(t, 200, "adam", "POST", path("/api/v1/requests/%d/approve", r.ID), `{}`, &got)
		if got.Status != "pending" || len(got.Approvals) != 1 {
			t.Fatalf("after one of two approvals: %+v", got)
		}
		// Distinct approvers: the same one twice does not count.
		e.refused(t, 409, "you already decided", "adam", "POST", path("/api/v1/requests/%d/approve", r.ID), `{}`)
		e.must(t, 200, "ada", "POST", path("/api/v1/requests/%d/approve", r.ID), `{"comment":"second"}`, &got)
		if got.Status != "approved" || len(got.Approvals) != 2 || got.Grant == nil || got.Grant.User != "alice@example.com" {
			t.Fatalf("after two approvals: %+v", got)
		}
	})
}

func TestDenyAndCancel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		r := e.request(t, "bob", `{"resource":"prod-db","reason":"curious"}`)
		var got apiRequest
		e.must(t, 200, "sam", "POST", path("/api/v1/requests/%d/deny", r.ID), `{"comment":"not without a ticket"}`, &got)
		if got.Status != "denied" || got.Grant != nil || got.DecidedAt == nil || len(got.Approvals) != 0 ||
			got.Denial == nil || got.Denial.By != "sam@example.com" || got.Denial.Comment != "not without a ticket" {
			t.Fatalf("denied request = %+v", got)
		}
		e.refused(t, 409, "is denied, not pending", "carol", "POST", path("/api/v1/requests/%d/approve", r.ID), `{}`)
		e.refused(t, 409, "is denied, not pending", "bob", "POST", path("/api/v1/requests/%d/cancel", r.ID), `{}`)

		// One denial denies even when more approvals are needed; admins
		// may deny what they cannot approve.
		s := e.request(t, "bob", `{"resource":"staging"}`)
		e.must(t, 200, "adam", "POST", path("/api/v1/requests/%d/approve", s.ID), `{}`, nil)
		e.must(t, 200, "ada", "POST", path("/api/v1/requests/%d/deny", s.ID), `{}`, &got)
		if got.Status != "denied" || len(got.Approvals) != 1 || got.Grant != nil {
			t.Fatalf("staging after approve+deny = %+v", got)
		}
		p := e.request(t, "bob", `{"resource":"prod-db","reason":"again"}`)
		e.refused(t, 404, "no request", "erin", "POST", path("/api/v1/requests/%d/deny", p.ID), `{}`)
		e.must(t, 200, "alice", "GET", path("/api/v1/requests/%d", p.ID), "", nil)

		// Cancel: only the requester, only while pending.
		e.refused(t, 403, "only bob@example.com", "carol", "POST", path("/api/v1/requests/%d/cancel", p.ID), ``)
		e.refused(t, 404, "no request", "erin", "POST", path("/api/v1/requests/%d/cancel", p.ID), ``)
		e.refused(t, 400, "unknown field", "bob", "POST", path("/api/v1/requests/%d/cancel", p.ID), `{"why":"x"}`)
		e.must(t, 200, "bob", "POST", path("/api/v1/requests/%d/cancel", p.ID), ``, &got)
		if got.Status != "cancelled" || got.DecidedAt == nil {
			t.Errorf("cancelled = %+v", got)
		}
		e.refused(t, 409, "is cancelled, not pending", "bob", "POST", path("/api/v1/requests/%d/cancel", p.ID), ``)
		e.refused(t, 409, "is cancelled, not pending", "carol", "POST", path("/api/v1/requests/%d/approve", p.ID), `{}`)

		var grantsN int64
		db.Model(&grants.Grant{}).Count(&grantsN)
		if grantsN != 0 {
			t.Errorf("%d grants after denials and a cancel", grantsN)
		}
	})
}

func TestAutoApproveAndExtendNotShorten(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		start := e.now
		r := e.request(t, "dave", `{"resource":"prod-db","duration":"4h","reason":"on call"}`)
		if r.Status != "approved" || r.Grant == nil || !r.Grant.ExpiresAt.Equal(start.Add(4*time.Hour)) || r.Grant.GrantedBy != "system" || r.DecidedAt == nil {
			t.Fatalf("auto-approved request = %+v", r)
		}
		first := r.Grant.ID

		// A shorter request later leaves the grant as it is.
		e.now = start.Add(time.Hour)
		r2 := e.request(t, "dave", `{"resource":"prod-db","duration":"1h","reason":"still on call"}`)
		if r2.Status != "approved" || r2.Grant == nil || r2.Grant.ID != first || !r2.Grant.ExpiresAt.Equal(start.Add(4*time.Hour)) {
			t.Fatalf("shorter request = %+v, want grant %d unchanged", r2.Grant, first)
		}
		// A longer one extends it.
		e.now = start.Add(3 * time.Hour)
		r3 := e.request(t, "dave", `{"resource":"prod-db","duration":"2h","reason":"long incident"}`)
		if r3.Grant == nil || r3.Grant.ID != first || !r3.Grant.ExpiresAt.Equal(start.Add(5*time.Hour)) {
			t.Fatalf("longer request = %+v, want grant %d until +5h", r3.Grant, first)
		}
		// Approvals through approvers extend the same way.
		e.now = start.Add(4 * time.Hour)
		b1 := e.request(t, "bob", `{"resource":"prod-db","duration":"3h","reason":"a"}`)
		e.must(t, 200, "carol", "POST", path("/api/v1/requests/%d/approve", b1.ID), `{}`, &b1)
		b2 := e.request(t, "bob", `{"resource":"prod-db","duration":"1h","reason":"b"}`)
		e.must(t, 200, "sam", "POST", path("/api/v1/requests/%d/approve", b2.ID), `{}`, &b2)
		if b1.Grant == nil || b2.Grant == nil || b2.Grant.ID != b1.Grant.ID || !b2.Grant.ExpiresAt.Equal(b1.Grant.ExpiresAt) {
			t.Fatalf("bob's grants: %+v then %+v", b1.Grant, b2.Grant)
		}

		var active int64
		db.Model(&grants.Grant{}).Where("status = ?", "active").Count(&active)
		if active != 2 {
			t.Errorf("%d active grants, want one for dave and one for bob", active)
		}
		want := []string{
			fmt.Sprintf("request.create request:%d", r.ID), fmt.Sprintf("grant.create grant:%d", first), fmt.Sprintf("request.auto-approve request:%d", r.ID),
			fmt.Sprintf("request.create request:%d", r2.ID), fmt.Sprintf("request.auto-approve request:%d", r2.ID),
			fmt.Sprintf("request.create request:%d", r3.ID), fmt.Sprintf("grant.extend grant:%d", first), fmt.Sprintf("request.auto-approve request:%d", r3.ID),
		}
		got := auditActions(t, db)
		if len(got) < len(want) || strings.Join(got[:len(want)], ",") != strings.Join(want, ",") {
			t.Errorf("audit = %v, want it to start %v", got, want)
		}
	})
}

// TestTwoApproversAtOnce races approvers on the same request, many times:
// exactly one wins, the others get 409, and there is exactly one grant.
func TestTwoApproversAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		race := func(id int64, who ...string) map[int]int {
			codes := make([]int, len(who))
			var start, done gosync.WaitGroup
			start.Add(1)
			for i, w := range who {
				done.Add(1)
				go func() {
					defer done.Done()
					start.Wait()
					req, _ := http.NewRequest("POST", e.srv.URL+path("/api/v1/requests/%d/approve", id), strings.NewReader(`{}`))
					req.Header.Set("Authorization", "Bearer "+e.tokens[w])
					req.Header.Set("Content-Type", "application/json")
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					res.Body.Close()
					codes[i] = res.StatusCode
				}()
			}
			start.Done()
			done.Wait()
			count := map[int]int{}
			for _, c := range codes {
				count[c]++
			}
			return count
		}
		for round := range 8 {
			r := e.request(t, "bob", `{"resource":"prod-db","reason":"race"}`)
			if got := race(r.ID, "carol", "sam"); got[200] != 1 || got[409] != 1 {
				t.Fatalf("round %d: answers %v, want one 200 and one 409", round, got)
			}
			var decisions int64
			db.Model(&grants.Approval{}).Where("request_id = ?", r.ID).Count(&decisions)
			if decisions != 1 {
				t.Errorf("round %d: %d approvals stored", round, decisions)
			}
		}
		// Two approvals needed, three admins at once: two count, one is late.
		r := e.request(t, "bob", `{"resource":"staging"}`)
		if got := race(r.ID, "alice", "adam", "ada"); got[200] != 2 || got[409] != 1 {
			t.Fatalf("three admins: answers %v, want two 200 and one 409", got)
		}
		var gs []grants.Grant
		db.Order("id").Find(&gs)
		if len(gs) != 2 || gs[0].Resource != "prod-db" || gs[1].Resource != "staging" {
			t.Fatalf("grants = %+v, want one per resource", gs)
		}
		var creates int64
		db.Model(&grants.AuditEvent{}).Where("action = ?", "grant.create").Count(&creates)
		if creates != 2 {
			t.Errorf("%d grant.create events, want 2", creates)
		}
		if _, err := grants.VerifyAudit(t.Context(), db.DB); err != nil {
			t.Error(err)
		}
	})
}

func TestListRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		b1 := e.request(t, "bob", `{"resource":"prod-db","reason":"a"}`)
		e.now = e.now.Add(time.Minute)
		b2 := e.request(t, "bob", `{"resource":"staging"}`)
		e.now = e.now.Add(time.Minute)
		d1 := e.request(t, "dave", `{"resource":"staging"}`)
		e.now = e.now.Add(time.Minute)
		e.must(t, 200, "carol", "POST", path("/api/v1/requests/%d/deny", b1.ID), `{}`, nil)
		c1 := e.request(t, "carol", `{"resource":"staging"}`)

		ids := func(who, query string) string {
			var list []apiRequest
			e.must(t, 200, who, "GET", "/api/v1/requests"+query, "", &list)
			var out []string
			for _, r := range list {
				out = append(out, fmt.Sprint(r.ID))
			}
			return strings.Join(out, ",")
		}
		cases := []struct{ who, query, want string }{
			{"bob", "", fmt.Sprintf("%d,%d", b2.ID, b1.ID)},   // own, newest first
			{"carol", "", fmt.Sprintf("%d,%d", c1.ID, b1.ID)}, // own and prod-db's
			{"carol", "?status=denied", fmt.Sprint(b1.ID)},    // the filter applies to both
			{"carol", "?status=pending", fmt.Sprint(c1.ID)},
			{"adam", "", fmt.Sprintf("%d,%d,%d,%d", c1.ID, d1.ID, b2.ID, b1.ID)},      // admin: all
			{"adam", "?status=pending", fmt.Sprintf("%d,%d,%d", c1.ID, d1.ID, b2.ID)}, // filtered
			{"alice", "?status=denied", fmt.Sprint(b1.ID)},                            // admin
			{"erin", "", ""}, // nothing of hers
			{"adam", "?status=pending&limit=1", fmt.Sprint(c1.ID)}, // limited
		}
		for _, c := range cases {
			if got := ids(c.who, c.query); got != c.want {
				t.Errorf("%s GET /api/v1/requests%s = [%s], want [%s]", c.who, c.query, got, c.want)
			}
		}
		code, body := e.call(t, "erin", "GET", "/api/v1/requests", "")
		if code != 200 || strings.TrimSpace(body) != "[]" {
			t.Errorf("empty list = %d %s, want []", code, body)
		}
		e.refused(t, 400, "status must be one of pending, approved", "bob", "GET", "/api/v1/requests?status=open", "")
		e.refused(t, 400, "limit must be", "bob", "GET", "/api/v1/requests?limit=0", "")
	})
}

func TestApprovalChecksTheRequesterAgain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		r := e.request(t, "bob", `{"resource":"prod-db","reason":"a"}`)
		// Bob is suspended in Okta after asking.
		if err := db.Model(&grants.DirectoryUser{}).Where("email = ?", "bob@example.com").Update("status", grants.StatusSuspended).Error; err != nil {
			t.Fatal(err)
		}
		e.refused(t, 409, "bob@example.com is SUSPENDED in Okta", "carol", "POST", path("/api/v1/requests/%d/approve", r.ID), `{}`)
		var n int64
		db.Model(&grants.Grant{}).Count(&n)
		if n != 0 {
			t.Errorf("a grant was created for a suspended user")
		}
	})
}
