package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/pagerduty"
	"github.com/accessportal/portal/sync/pagerdutyfake"
)

// startOnCallPortal runs the demo portal with the demo's simulated
// PagerDuty account (nobody on call yet), polling every interval.
func startOnCallPortal(t *testing.T, db *database.DB, interval time.Duration) (*runningPortal, *pagerdutyfake.Server) {
	t.Helper()
	pd, url, stop, err := pagerdutyfake.Start(pagerdutyfake.Options{Tokens: []string{demoPagerDutyToken}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	seedDemoPagerDuty(pd)
	p := startPortalConfigured(t, db, interval, demoCatalog, 0, func(c *config) {
		c.PagerDutyToken, c.PagerDutyAPIURL = demoPagerDutyToken, url
	})
	for _, who := range []string{"alice@example.com", "bob@example.com", "erin@example.com"} {
		p.tailnet.AddUser(who)
	}
	// Requests wait for the directory: ready once a reconcile read it.
	waitFor(t, 20*time.Second, func() bool {
		res, err := http.Get(p.base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return p, pd
}

// requestProdDB files a prod-db request as email through the API and checks
// that the answer came within 5 s.
func requestProdDB(t *testing.T, p *runningPortal, email, duration string) grants.Request {
	t.Helper()
	secret, _, err := grants.NewStore(p.db).CreateToken(t.Context(), email, "test", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", p.base+"/api/v1/requests", strings.NewReader(`{"resource":"prod-db","duration":"`+duration+`","reason":"incident 42"}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if took := time.Since(start); took >= 5*time.Second {
		t.Errorf("POST /api/v1/requests took %s, want < 5s", took)
	}
	var out struct {
		ID            int64
		Status        string
		AutoApproved  *struct{ Rule string }
		PendingReason *string
		Grant         *struct {
			ID        int64
			ExpiresAt time.Time
		}
	}
	if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&out) != nil {
		t.Fatalf("POST /api/v1/requests as %s = %d", email, res.StatusCode)
	}
	r := grants.Request{ID: out.ID, Status: out.Status}
	if out.AutoApproved != nil {
		r.AutoApprovedRule = out.AutoApproved.Rule
	}
	if out.PendingReason != nil {
		r.PendingReason = *out.PendingReason
	}
	if out.Grant != nil {
		r.Grant = &grants.Grant{ID: out.Grant.ID, ExpiresAt: out.Grant.ExpiresAt}
	}
	return r
}

// inProdDB reports whether the tailnet policy's group:jit-prod-db holds email.
func inProdDB(p *runningPortal, email string) bool {
	return strings.Contains(jitGroup(p.policyText()), `"`+email+`"`)
}

// metrics reads the portal's /metrics.
func (p *runningPortal) metrics(t *testing.T) string {
	t.Helper()
	res, err := http.Get(p.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// grant reads a grant from the database.
func (p *runningPortal) grant(t *testing.T, id int64) grants.Grant {
	t.Helper()
	var g grants.Grant
	if err := p.db.Where("id = ?", id).Take(&g).Error; err != nil {
		t.Fatal(err)
	}
	return g
}

func TestOnCallGrantAppliedAndEndedWithTheShift(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p, pd := startOnCallPortal(t, db, time.Hour)
		// bob's shift ends in a few seconds (PagerDuty times are whole seconds).
		shiftEnd := time.Now().Truncate(time.Second).Add(4 * time.Second)
		pd.PutOnCall(demoPagerDutySchedule, "bob@example.com", shiftEnd.Add(-time.Hour), shiftEnd)
		r := requestProdDB(t, p, "bob@example.com", "4h")
		if r.Status != grants.RequestApproved || r.AutoApprovedRule != "onCall: pagerduty "+demoPagerDutySchedule || r.Grant == nil {
			t.Fatalf("bob's request = %+v, want approved by the on-call rule", r)
		}
		if !r.Grant.ExpiresAt.Equal(shiftEnd) {
			t.Errorf("bob's grant expires at %s, want the shift's end %s", r.Grant.ExpiresAt, shiftEnd)
		}
		waitFor(t, 20*time.Second, func() bool { return p.grant(t, r.Grant.ID).AppliedAt != nil && inProdDB(p, "bob@example.com") })
		waitFor(t, 20*time.Second, func() bool { return p.grant(t, r.Grant.ID).RemovedAt != nil && !inProdDB(p, "bob@example.com") })
		// The removing write starts one write's latency early so that it
		// lands at the shift's end; never more than a round trip early.
		if g := p.grant(t, r.Grant.ID); g.RemovedAt.Before(shiftEnd.Add(-100 * time.Millisecond)) {
			t.Errorf("bob's grant removed at %s, well before the shift's end %s", g.RemovedAt, shiftEnd)
		}
	})
}

func TestOnCallGrantEndsWhenTakenOffCallEarly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		const interval = time.Second
		p, pd := startOnCallPortal(t, db, interval)
		now := time.Now()
		pd.PutOnCall(demoPagerDutySchedule, "erin@example.com", now.Add(-time.Hour), now.Add(8*time.Hour))
		r := requestProdDB(t, p, "erin@example.com", "4h")
		if r.Status != grants.RequestApproved || r.Grant == nil {
			t.Fatalf("erin's request = %+v, want approved by the on-call rule", r)
		}
		if want := now.Add(2 * time.Hour); r.Grant.ExpiresAt.Before(want.Add(-2*time.Second)) || r.Grant.ExpiresAt.After(want.Add(2*time.Second)) {
			t.Errorf("erin's 4h request expires at %s, want about %s (onCall.maxDuration 2h)", r.Grant.ExpiresAt, want)
		}
		waitFor(t, 20*time.Second, func() bool { return inProdDB(p, "erin@example.com") })

		// Not on call: bob waits for an approver, with no reason to give.
		if r := requestProdDB(t, p, "bob@example.com", "1h"); r.Status != grants.RequestPending || r.AutoApprovedRule != "" || r.PendingReason != "" {
			t.Errorf("bob's request = %+v, want pending without a reason", r)
		}

		// PagerDuty down: alice, on call, is not approved by it and is told
		// why; erin's grant keeps running.
		pd.PutOnCall(demoPagerDutySchedule, "alice@example.com", now.Add(-time.Hour), now.Add(8*time.Hour))
		pd.SetFault(pagerdutyfake.Fault{Status: 503})
		calls := pd.Calls(pagerdutyfake.RouteListOnCalls)
		// Until the on-call check meets the failure, answers come from the cache.
		waitFor(t, 20*time.Second, func() bool { return pd.Calls(pagerdutyfake.RouteListOnCalls) >= calls+2 })
		if r := requestProdDB(t, p, "alice@example.com", "1h"); r.Status != grants.RequestPending || r.AutoApprovedRule != "" ||
			r.PendingReason != "PagerDuty failed (503 Service Unavailable)" {
			t.Errorf("alice's request with PagerDuty down = %+v, want pending with the reason", r)
		}
		if m := p.metrics(t); !strings.Contains(m, "\nportal_pagerduty_up 0\n") || !strings.Contains(m, `portal_pagerduty_calls_total{outcome="server_error"}`) {
			t.Errorf("/metrics with PagerDuty down lacks portal_pagerduty_up 0 or the failed calls")
		}
		if g := p.grant(t, r.Grant.ID); g.Status != grants.GrantActive {
			t.Fatalf("erin's grant with PagerDuty down = %s, want active", g.Status)
		}
		pd.ClearFault()

		// An override takes erin off call: the grant ends within the interval.
		taken := time.Now()
		if err := pd.Override(demoPagerDutySchedule, "carol@example.com", taken.Add(-time.Second), taken.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, func() bool { return p.grant(t, r.Grant.ID).RemovedAt != nil && !inProdDB(p, "erin@example.com") })
		g := p.grant(t, r.Grant.ID)
		if g.Status != grants.GrantRevoked || !strings.Contains(g.RevokeReason, "no longer on call") {
			t.Errorf("erin's grant = %s %q, want revoked as no longer on call", g.Status, g.RevokeReason)
		}
		// PagerDuty's answers are reused for a few seconds (the client's cache).
		if took := g.RemovedAt.Sub(taken); took > interval+pagerduty.DefaultCacheTTL+2*time.Second {
			t.Errorf("erin left the tailnet group %s after leaving call, want within the %s interval (+ the %s cache)", took, interval, pagerduty.DefaultCacheTTL)
		}
	})
}
