package grants_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/pagerduty"
	"github.com/accessportal/portal/sync/pagerdutyfake"
)

// onCallJIT is the JIT cast with prod-db's onCall rule on schedule PSRE,
// asking a simulated PagerDuty account whose clock is *now.
func onCallJIT(t *testing.T, db *database.DB, now *time.Time) (*jit, *grants.Store, *pagerdutyfake.Server) {
	t.Helper()
	j := newJIT(t, db)
	res := j.cat.Resources["prod-db"]
	res.OnCall = &grants.OnCall{PagerDutySchedules: []string{"PSRE"}, MaxDuration: 2 * time.Hour, EndWithShift: true}
	j.cat.Resources["prod-db"] = res
	clock := func() time.Time { return *now }
	pd, url, stop, err := pagerdutyfake.Start(pagerdutyfake.Options{Tokens: []string{"k"}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	pd.AddUser(pagerdutyfake.User{Name: "Bob", Email: "bob@example.com"})
	pd.AddSchedule(pagerdutyfake.Schedule{ID: "PSRE", Name: "SRE"})
	client, err := pagerduty.New(pagerduty.Options{Token: "k", APIURL: url, Clock: clock, CacheTTL: -1, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	return j, grants.NewStore(db).WithOnCall(pagerduty.Approver{Client: client}), pd
}

// An approver's extension of an on-call grant makes it stand on that
// approval: leaving call no longer ends it.
func TestOnCallGrantExtendedByAnApproverOutlivesTheShift(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		now := t0
		j, st, pd := onCallJIT(t, db, &now)
		if err := pd.PutOnCall("PSRE", "bob@example.com", now.Add(-time.Hour), now.Add(8*time.Hour)); err != nil {
			t.Fatal(err)
		}
		first, err := st.CreateRequest(t.Context(), j.cat, j.people["bob"], grants.RequestInput{Resource: "prod-db", Duration: time.Hour, Reason: "page"}, now)
		if err != nil || first.Status != grants.RequestApproved || first.Grant == nil || first.Grant.OnCallSchedules != "PSRE" {
			t.Fatalf("on-call request = %+v, %v; want approved with a grant marked on-call", first, err)
		}
		pd.EndShift("PSRE", "bob@example.com")
		now = now.Add(time.Minute)
		// Off call: bob's next request waits, carol approves it for longer.
		second, err := st.CreateRequest(t.Context(), j.cat, j.people["bob"], grants.RequestInput{Resource: "prod-db", Duration: 3 * time.Hour, Reason: "more"}, now)
		if err != nil || second.Status != grants.RequestPending {
			t.Fatalf("off-call request = %+v, %v; want pending", second, err)
		}
		approved, err := st.ApproveRequest(t.Context(), j.cat, second.ID, j.people["carol"], "ok", now)
		if err != nil || approved.Grant == nil || approved.Grant.ID != first.Grant.ID || approved.Grant.OnCallSchedules != "" {
			t.Fatalf("approval = %+v, %v; want the same grant, no longer marked on-call", approved, err)
		}
		if ended, err := st.EndOffCallGrants(t.Context(), now); err != nil || len(ended) != 0 {
			t.Errorf("EndOffCallGrants = %v, %v; want the approved grant kept", ended, err)
		}
	})
}

// Without PagerDuty, a resource with onCall waits for approvers and says why.
func TestOnCallWithoutPagerDutyWaitsAndSaysWhy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		now := t0
		j, _, _ := onCallJIT(t, db, &now)
		req, err := grants.NewStore(db).CreateRequest(t.Context(), j.cat, j.people["bob"], grants.RequestInput{Resource: "prod-db", Duration: time.Hour, Reason: "page"}, now)
		if err != nil || req.Status != grants.RequestPending || req.PendingReason == "" || req.AutoApprovedRule != "" {
			t.Fatalf("request without PagerDuty = %+v, %v; want pending with a reason", req, err)
		}
	})
}
