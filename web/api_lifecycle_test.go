package web_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// lifecycleRequest is the API's Request with the fields of the request
// lifecycle: the approvers' durations, autoApproved, extends.
type lifecycleRequest struct {
	ID        int64  `json:"id"`
	Resource  string `json:"resource"`
	Requester string `json:"requester"`
	Duration  string `json:"duration"`
	Status    string `json:"status"`
	Approvals []struct {
		By       string  `json:"by"`
		Duration *string `json:"duration"`
	} `json:"approvals"`
	AutoApproved *struct {
		Rule string `json:"rule"`
	} `json:"autoApproved"`
	Extends *int64    `json:"extends"`
	Grant   *apiGrant `json:"grant"`
}

func (e *jitEnv) getRequest(t *testing.T, who string, id int64) lifecycleRequest {
	t.Helper()
	var r lifecycleRequest
	e.must(t, 200, who, "GET", path("/api/v1/requests/%d", id), "", &r)
	return r
}

func (e *jitEnv) awaiting(t *testing.T, who string) []int64 {
	t.Helper()
	var rs []lifecycleRequest
	e.must(t, 200, who, "GET", "/api/v1/requests?role=approver", "", &rs)
	ids := []int64{}
	for _, r := range rs {
		if r.Status != "pending" {
			t.Errorf("role=approver lists request %d, %s", r.ID, r.Status)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

func TestApproveWithDuration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		r := e.request(t, "bob", `{"resource":"prod-db","duration":"2h","reason":"incident 42"}`)
		approve := path("/api/v1/requests/%d/approve", r.ID)

		// Over maxDuration (4h), not positive, not a duration: 400, and the
		// request stays pending with no approval recorded.
		e.refused(t, 400, "5h is longer than the maximum 4h for prod-db", "carol", "POST", approve, `{"duration":"5h"}`)
		e.refused(t, 400, "must be positive", "carol", "POST", approve, `{"duration":"-30m"}`)
		e.refused(t, 400, "invalid duration", "carol", "POST", approve, `{"duration":"a while"}`)
		if got := e.getRequest(t, "bob", r.ID); got.Status != "pending" || len(got.Approvals) != 0 {
			t.Fatalf("after refused approvals: %+v", got)
		}

		// carol approves it for 30 minutes: the grant lasts 30m from now.
		e.now = e.now.Add(5 * time.Minute)
		var got lifecycleRequest
		e.must(t, 200, "carol", "POST", approve, `{"duration":"30m","comment":"half an hour is enough"}`, &got)
		if got.Status != "approved" || got.Duration != "2h" || len(got.Approvals) != 1 || got.Approvals[0].Duration == nil || *got.Approvals[0].Duration != "30m" {
			t.Fatalf("approved for 30m: %+v", got)
		}
		if g := got.Grant; g == nil || !g.StartsAt.Equal(e.now) || !g.ExpiresAt.Equal(e.now.Add(30*time.Minute)) {
			t.Errorf("grant = %+v, want %s + 30m", got.Grant, e.now)
		}
	})
}

func TestShortestApprovedDurationWins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		// staging needs two approvals from the admins.
		r := e.request(t, "bob", `{"resource":"staging","duration":"2h"}`)
		approve := path("/api/v1/requests/%d/approve", r.ID)
		e.must(t, 200, "adam", "POST", approve, `{"duration":"45m"}`, nil)
		if got := e.getRequest(t, "bob", r.ID); got.Status != "pending" || got.Grant != nil {
			t.Fatalf("after one of two approvals: %+v", got)
		}
		// The clock starts at the final approval, an hour later.
		e.now = e.now.Add(time.Hour)
		var got lifecycleRequest
		e.must(t, 200, "ada", "POST", approve, `{"duration":"90m"}`, &got)
		if got.Status != "approved" || got.Grant == nil {
			t.Fatalf("after two approvals: %+v", got)
		}
		if !got.Grant.StartsAt.Equal(e.now) || !got.Grant.ExpiresAt.Equal(e.now.Add(45*time.Minute)) {
			t.Errorf("grant runs %s – %s, want %s + 45m (the shortest set)", got.Grant.StartsAt, got.Grant.ExpiresAt, e.now)
		}

		// Without any duration set, the requested one.
		r2 := e.request(t, "dave", `{"resource":"staging","duration":"20m"}`)
		e.must(t, 200, "adam", "POST", path("/api/v1/requests/%d/approve", r2.ID), `{}`, nil)
		e.must(t, 200, "ada", "POST", path("/api/v1/requests/%d/approve", r2.ID), `{"comment":"ok"}`, &got)
		if got.Grant == nil || !got.Grant.ExpiresAt.Equal(e.now.Add(20*time.Minute)) {
			t.Errorf("grant without approver durations = %+v, want the requested 20m", got.Grant)
		}
	})
}

func TestQuorumCountsCurrentApproversOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		r := e.request(t, "bob", `{"resource":"staging","duration":"1h"}`)
		approve := path("/api/v1/requests/%d/approve", r.ID)
		e.must(t, 200, "adam", "POST", approve, `{"duration":"10m"}`, nil)
		// adam leaves the admins (the approvers of staging) before the final
		// approval: his approval, and the duration he set, no longer count.
		if err := db.Where("user_id = ? AND group_id = ?", "u1", "g-portal-admins").Delete(&grants.DirectoryMembership{}).Error; err != nil {
			t.Fatal(err)
		}
		var got lifecycleRequest
		e.must(t, 200, "ada", "POST", approve, `{}`, &got)
		if got.Status != "pending" || got.Grant != nil || len(got.Approvals) != 2 {
			t.Fatalf("with one current approver of two: %+v", got)
		}
		// An approval by someone suspended since does not count either.
		r2 := e.request(t, "dave", `{"resource":"staging"}`)
		e.must(t, 200, "ada", "POST", path("/api/v1/requests/%d/approve", r2.ID), `{}`, nil)
		if err := db.Model(&grants.DirectoryUser{}).Where("id = ?", "u2").Update("status", grants.StatusSuspended).Error; err != nil {
			t.Fatal(err)
		}
		e.must(t, 200, "alice", "POST", path("/api/v1/requests/%d/approve", r2.ID), `{}`, &got)
		if got.Status != "pending" {
			t.Errorf("dave's request with a suspended approver's approval: %+v", got)
		}
		// alice approves bob's request too: with ada suspended, only
		// alice's approval counts of the three.
		e.must(t, 200, "alice", "POST", approve, `{}`, &got)
		if got.Status != "pending" {
			t.Fatalf("bob's request with alice's and a suspended ada's approvals: %+v", got)
		}
		// ada is back: at the next approval hers counts again, with
		// alice's and zoe's — but adam's (and his 10m) still does not.
		if err := db.Model(&grants.DirectoryUser{}).Where("id = ?", "u2").Update("status", grants.StatusActive).Error; err != nil {
			t.Fatal(err)
		}
		addUser(t, db, "u-zoe", email("zoe"), grants.StatusActive, "Portal Admins")
		e.tokens["zoe"] = token(t, db, email("zoe"), 0, e.now)
		e.must(t, 200, "zoe", "POST", approve, `{"duration":"15m"}`, &got)
		if got.Status != "approved" || got.Grant == nil || !got.Grant.ExpiresAt.Equal(e.now.Add(15*time.Minute)) {
			t.Errorf("with three current approvals: %+v (adam's 10m must not count)", got)
		}
	})
}

func TestRoleApprover(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		prod := e.request(t, "bob", `{"resource":"prod-db","reason":"incident"}`)
		e.now = e.now.Add(time.Minute)
		staging := e.request(t, "bob", `{"resource":"staging"}`)
		e.now = e.now.Add(time.Minute)
		own := e.request(t, "alice", `{"resource":"staging"}`)
		auto := e.request(t, "dave", `{"resource":"prod-db","reason":"on call"}`)
		if auto.Status != "approved" {
			t.Fatalf("dave's on-call request = %+v", auto)
		}

		for _, c := range []struct {
			who  string
			want []int64
		}{
			{"carol", []int64{prod.ID}},
			{"sam", []int64{prod.ID}},
			{"adam", []int64{own.ID, staging.ID}},
			{"alice", []int64{staging.ID}}, // not her own
			{"bob", []int64{}},             // approves nothing
			{"erin", []int64{}},
		} {
			if got := e.awaiting(t, c.who); !slices.Equal(got, c.want) {
				t.Errorf("role=approver as %s = %v, want %v", c.who, got, c.want)
			}
		}
		// Once adam approved, bob's staging request waits for the others only.
		e.must(t, 200, "adam", "POST", path("/api/v1/requests/%d/approve", staging.ID), `{}`, nil)
		if got := e.awaiting(t, "adam"); !slices.Equal(got, []int64{own.ID}) {
			t.Errorf("role=approver as adam after approving = %v", got)
		}
		if got := e.awaiting(t, "ada"); !slices.Equal(got, []int64{own.ID, staging.ID}) {
			t.Errorf("role=approver as ada = %v", got)
		}
		// Decided requests leave every inbox.
		e.must(t, 200, "carol", "POST", path("/api/v1/requests/%d/deny", prod.ID), `{"comment":"no"}`, nil)
		if got := e.awaiting(t, "sam"); len(got) != 0 {
			t.Errorf("role=approver as sam after carol denied = %v", got)
		}
		e.must(t, 200, "adam", "GET", "/api/v1/requests?role=approver&status=pending", "", nil)
		e.refused(t, 400, "pending requests only", "adam", "GET", "/api/v1/requests?role=approver&status=denied", "")
		e.refused(t, 400, "role must be", "adam", "GET", "/api/v1/requests?role=boss", "")
		e.refused(t, 401, "", "", "GET", "/api/v1/requests?role=approver", "")

	})
}

func TestAutoApprovedNamesItsRule(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		var got lifecycleRequest
		e.must(t, 201, "dave", "POST", "/api/v1/requests", `{"resource":"prod-db","reason":"pager went off"}`, &got)
		if got.Status != "approved" || got.AutoApproved == nil || got.AutoApproved.Rule != "autoApprove: On-Call" || len(got.Approvals) != 0 || got.Grant == nil {
			t.Fatalf("auto-approved request = %+v", got)
		}
		// People's decisions leave it null.
		r := e.request(t, "bob", `{"resource":"prod-db","reason":"x"}`)
		var raw map[string]any
		e.must(t, 200, "carol", "POST", path("/api/v1/requests/%d/approve", r.ID), `{}`, &raw)
		if raw["autoApproved"] != nil {
			t.Errorf("approved by carol: autoApproved = %v", raw["autoApproved"])
		}
	})
}

func TestExtendGrant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		// dave's grants are auto-approved, extensions too.
		var first lifecycleRequest
		e.must(t, 201, "dave", "POST", "/api/v1/requests", `{"resource":"prod-db","reason":"on call","duration":"1h"}`, &first)
		gid := first.Grant.ID
		e.now = e.now.Add(30 * time.Minute)
		var ext lifecycleRequest
		e.must(t, 201, "dave", "POST", path("/api/v1/grants/%d/extend", gid), `{"duration":"2h","reason":"still fixing"}`, &ext)
		if ext.Extends == nil || *ext.Extends != gid || ext.Status != "approved" || ext.Grant == nil || ext.Grant.ID != gid ||
			!ext.Grant.ExpiresAt.Equal(e.now.Add(2*time.Hour)) || !ext.Grant.StartsAt.Equal(e.now.Add(-30*time.Minute)) {
			t.Fatalf("auto-approved extension = %+v, grant %+v", ext, ext.Grant)
		}
		// Never earlier: a shorter extension leaves the end where it is.
		e.must(t, 201, "dave", "POST", path("/api/v1/grants/%d/extend", gid), `{"duration":"10m","reason":"x"}`, &ext)
		if ext.Grant == nil || ext.Grant.ID != gid || !ext.Grant.ExpiresAt.Equal(e.now.Add(2*time.Hour)) {
			t.Errorf("shorter extension moved the end: %+v", ext.Grant)
		}

		// bob's extension waits for an approver, who may shorten it.
		var bobs lifecycleRequest
		bobReq := e.request(t, "bob", `{"resource":"prod-db","reason":"migration","duration":"1h"}`)
		e.must(t, 200, "carol", "POST", path("/api/v1/requests/%d/approve", bobReq.ID), `{}`, &bobs)
		bg := bobs.Grant.ID
		e.must(t, 201, "bob", "POST", path("/api/v1/grants/%d/extend", bg), `{"duration":"3h","reason":"migration runs long"}`, &ext)
		if ext.Status != "pending" || ext.Extends == nil || *ext.Extends != bg || ext.Grant != nil || ext.Resource != "prod-db" || ext.Duration != "3h" {
			t.Fatalf("pending extension = %+v", ext)
		}
		if got := e.awaiting(t, "sam"); !slices.Equal(got, []int64{ext.ID}) {
			t.Errorf("sam's inbox = %v, want the extension %d", got, ext.ID)
		}
		e.now = e.now.Add(40 * time.Minute)
		var approved lifecycleRequest
		e.must(t, 200, "sam", "POST", path("/api/v1/requests/%d/approve", ext.ID), `{"duration":"2h"}`, &approved)
		if approved.Grant == nil || approved.Grant.ID != bg || !approved.Grant.ExpiresAt.Equal(e.now.Add(2*time.Hour)) || approved.Grant.Status != "active" {
			t.Errorf("approved extension's grant = %+v, want grant %d until %s", approved.Grant, bg, e.now.Add(2*time.Hour))
		}
		var n int64
		db.Model(&grants.Grant{}).Where("user_email = ?", email("bob")).Count(&n)
		if n != 1 {
			t.Errorf("bob has %d grants after an extension, want 1", n)
		}

		// Who may extend what.
		e.refused(t, 404, fmt.Sprintf("no grant %d", bg), "carol", "POST", path("/api/v1/grants/%d/extend", bg), `{"duration":"1h"}`)
		e.refused(t, 403, "only bob@example.com", "alice", "POST", path("/api/v1/grants/%d/extend", bg), `{"duration":"1h"}`)
		e.refused(t, 400, "longer than the maximum 4h", "bob", "POST", path("/api/v1/grants/%d/extend", bg), `{"duration":"5h","reason":"x"}`)
		e.refused(t, 400, "requires a reason", "bob", "POST", path("/api/v1/grants/%d/extend", bg), `{"duration":"1h"}`)
		e.refused(t, 400, "unknown field", "bob", "POST", path("/api/v1/grants/%d/extend", bg), `{"duration":"1h","until":"x"}`)
		e.refused(t, 404, "no grant 999", "bob", "POST", "/api/v1/grants/999/extend", `{"duration":"1h","reason":"x"}`)
		e.must(t, 200, "bob", "POST", path("/api/v1/grants/%d/revoke", bg), `{"reason":"done"}`, nil)
		e.refused(t, 409, "is revoked, not active", "bob", "POST", path("/api/v1/grants/%d/extend", bg), `{"duration":"1h","reason":"x"}`)
		e.now = e.now.Add(3 * time.Hour) // dave's grant has run out, unswept
		e.refused(t, 409, "ended at", "dave", "POST", path("/api/v1/grants/%d/extend", gid), `{"duration":"1h","reason":"x"}`)
	})
}

func TestApprovalAfterExpiryMakesANewGrant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		var first lifecycleRequest
		r := e.request(t, "bob", `{"resource":"prod-db","reason":"migration","duration":"1h"}`)
		e.must(t, 200, "carol", "POST", path("/api/v1/requests/%d/approve", r.ID), `{}`, &first)
		old := first.Grant
		e.now = e.now.Add(50 * time.Minute)
		var ext lifecycleRequest
		e.must(t, 201, "bob", "POST", path("/api/v1/grants/%d/extend", old.ID), `{"duration":"1h","reason":"more"}`, &ext)

		// Nobody decides before the grant's end; the sweeper has not run.
		e.now = e.now.Add(20 * time.Minute)
		var got lifecycleRequest
		e.must(t, 200, "sam", "POST", path("/api/v1/requests/%d/approve", ext.ID), `{}`, &got)
		if got.Grant == nil || got.Grant.ID == old.ID || !got.Grant.StartsAt.Equal(e.now) || !got.Grant.ExpiresAt.Equal(e.now.Add(time.Hour)) {
			t.Fatalf("approval after the end: grant %+v, want a new one from %s", got.Grant, e.now)
		}
		var oldRow grants.Grant
		if err := db.Where("id = ?", old.ID).Take(&oldRow).Error; err != nil {
			t.Fatal(err)
		}
		if oldRow.Status != grants.GrantExpired || !oldRow.ExpiresAt.Equal(old.ExpiresAt) {
			t.Errorf("the old grant = %+v, want expired at %s", oldRow, old.ExpiresAt)
		}
	})
}
