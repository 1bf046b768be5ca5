package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/sync/pagerduty"
	"github.com/accessportal/portal/sync/pagerdutyfake"
	"github.com/accessportal/portal/web"
)

// onCallCatalog has prod-db approved at once for whoever is on call in the
// Primary or Secondary schedule (PPRIMARY, PSECOND), capped at 2h, ending with the shift.
const onCallCatalog = `{
  "admins": ["Portal Admins"],
  "resources": {
    "prod-db": {
      "group": "group:jit-prod-db",
      "eligible": ["Engineering"],
      "approvers": ["Security"],
      "autoApprove": ["On-Call Okta"],
      "onCall": {"pagerdutySchedules": ["PPRIMARY", "PSECOND"], "maxDuration": "2h"},
      "maxDuration": "4h",
      "defaultDuration": "1h",
    },
  },
}`

// onCallPortal is a portal asking a simulated PagerDuty account.
type onCallPortal struct {
	srv    string
	pd     *pagerdutyfake.Server
	client *pagerduty.Client
	store  *grants.Store
	db     *database.DB
	now    time.Time
	tokens map[string]string
	oidc   *oidcPortal
}

func newOnCallPortal(t *testing.T, db *database.DB) *onCallPortal {
	t.Helper()
	p := &onCallPortal{db: db, now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), tokens: map[string]string{}}
	clock := func() time.Time { return p.now }
	fake, url, stop, err := pagerdutyfake.Start(pagerdutyfake.Options{Tokens: []string{"pd-key"}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	p.pd = fake
	for _, who := range []string{"alice", "bob", "dave", "erin"} {
		fake.AddUser(pagerdutyfake.User{Name: who, Email: email(who)})
	}
	fake.AddSchedule(pagerdutyfake.Schedule{ID: "PPRIMARY", Name: "Primary"})
	fake.AddSchedule(pagerdutyfake.Schedule{ID: "PSECOND", Name: "Secondary"})
	// CacheTTL -1: the clock stands still, so a cached answer would never age.
	p.client, err = pagerduty.New(pagerduty.Options{Token: "pd-key", APIURL: url, Clock: clock, CacheTTL: -1, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := grants.NewStore(db).OpenCatalogStore(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Replace(t.Context(), "seed", []byte(onCallCatalog), "", "test", p.now); err != nil {
		t.Fatal(err)
	}
	checker := pagerduty.Approver{Client: p.client}
	p.store = grants.NewStore(db).WithOnCall(checker)
	okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{APIToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeOkta)
	ts := servePortal(t, web.Options{
		DB: db, CatalogStore: cs, Clock: clock, Wake: func() {},
		OIDC:   &web.OIDCConfig{Issuer: oktaURL, ClientID: "portal", ClientSecret: "s3cret"},
		OnCall: checker, CheckSchedules: p.client.CheckSchedules, PagerDutyStatus: p.client.Status,
	})
	okta.AddClient(oktafake.Client{ID: "portal", Secret: "s3cret", RedirectURIs: []string{ts.URL + "/auth/callback"}})
	p.srv, p.oidc = ts.URL, &oidcPortal{testPortal: &testPortal{db: db, srv: ts}, okta: okta}
	for _, person := range []struct {
		name   string
		groups []string
	}{
		{"alice", []string{"Portal Admins", "Engineering"}},
		{"bob", []string{"Engineering"}},
		{"dave", []string{"Engineering"}},
		{"erin", []string{"Engineering", "On-Call Okta"}},
	} {
		id := okta.AddUser(oktafake.User{Login: email(person.name), Email: email(person.name)})
		addUser(t, db, id, email(person.name), grants.StatusActive, person.groups...)
		p.tokens[person.name] = token(t, db, email(person.name), 0, p.now)
	}
	return p
}

// onCallRequest is the API's Request with the on-call fields.
type onCallRequest struct {
	ID            int64                  `json:"id"`
	Status        string                 `json:"status"`
	AutoApproved  *struct{ Rule string } `json:"autoApproved"`
	PendingReason *string                `json:"pendingReason"`
	Grant         *apiGrant              `json:"grant"`
}

// request files a request for prod-db as who and checks it is answered
// within 5 s.
func (p *onCallPortal) request(t *testing.T, who, duration string) onCallRequest {
	t.Helper()
	start := time.Now()
	res, body := do(t, "POST", p.srv+"/api/v1/requests", p.tokens[who], `{"resource":"prod-db","duration":"`+duration+`","reason":"incident"}`,
		"Content-Type", "application/json")
	if took := time.Since(start); took >= 5*time.Second {
		t.Errorf("POST /api/v1/requests took %s, want < 5s", took)
	}
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/requests as %s = %d %s", who, res.StatusCode, body)
	}
	var r onCallRequest
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r onCallRequest) rule() string {
	if r.AutoApproved == nil {
		return ""
	}
	return r.AutoApproved.Rule
}

func TestOnCallApprovesAtOnceCapped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newOnCallPortal(t, db)
		now := p.now
		// bob's shift ends in 90 minutes, dave's in a day.
		p.pd.PutOnCall("PPRIMARY", email("bob"), now.Add(-time.Hour), now.Add(90*time.Minute))
		p.pd.PutOnCall("PPRIMARY", email("dave"), now.Add(-time.Hour), now.Add(24*time.Hour))

		for _, c := range []struct {
			who, duration string
			want          time.Time
		}{
			{"bob", "3h", now.Add(90 * time.Minute)}, // the shift's end
			{"dave", "4h", now.Add(2 * time.Hour)},   // onCall.maxDuration: approved for that long
		} {
			r := p.request(t, c.who, c.duration)
			if r.Status != grants.RequestApproved || r.rule() != "onCall: pagerduty PPRIMARY" || r.Grant == nil {
				t.Fatalf("%s's request = %+v, want approved by onCall: pagerduty PPRIMARY", c.who, r)
			}
			if !r.Grant.ExpiresAt.Equal(c.want) || r.Grant.GrantedBy != "system" {
				t.Errorf("%s's grant expires at %s granted by %q, want %s by system", c.who, r.Grant.ExpiresAt, r.Grant.GrantedBy, c.want)
			}
			if r.PendingReason != nil {
				t.Errorf("%s's approved request has pendingReason %q", c.who, *r.PendingReason)
			}
		}

		// A request shorter than every cap keeps its length.
		addUser(t, db, "oc-carl", "carl@example.com", grants.StatusActive, "Engineering")
		p.tokens["carl"] = token(t, db, "carl@example.com", 0, now)
		p.pd.AddUser(pagerdutyfake.User{Name: "carl", Email: "carl@example.com"})
		p.pd.PutOnCall("PPRIMARY", "Carl@Example.com", now.Add(-time.Hour), time.Time{})
		if r := p.request(t, "carl", "30m"); r.Grant == nil || !r.Grant.ExpiresAt.Equal(now.Add(30*time.Minute)) {
			t.Errorf("carl's 30m request on an open-ended shift = %+v, want a grant until %s", r, now.Add(30*time.Minute))
		}

		// The Okta autoApprove rule names itself too.
		if r := p.request(t, "erin", "1h"); r.Status != grants.RequestApproved || r.rule() != "autoApprove: On-Call Okta" {
			t.Errorf("erin's request = %+v, want approved by autoApprove: On-Call Okta", r)
		}
	})
}

func TestOnCallNotOnCallWaits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newOnCallPortal(t, db)
		// bob was on call, but his shift ended an hour ago.
		p.pd.PutOnCall("PPRIMARY", email("bob"), p.now.Add(-3*time.Hour), p.now.Add(-time.Hour))
		r := p.request(t, "bob", "1h")
		if r.Status != grants.RequestPending || r.AutoApproved != nil || r.PendingReason != nil || r.Grant != nil {
			t.Errorf("request of someone not on call = %+v, want pending without a reason", r)
		}
	})
}

func TestOnCallPagerDutyDownWaitsWithTheReason(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newOnCallPortal(t, db)
		p.pd.PutOnCall("PPRIMARY", email("bob"), p.now.Add(-time.Hour), p.now.Add(8*time.Hour))
		p.pd.PutOnCall("PPRIMARY", email("dave"), p.now.Add(-time.Hour), p.now.Add(8*time.Hour))
		p.pd.PutOnCall("PPRIMARY", email("alice"), p.now.Add(-time.Hour), p.now.Add(8*time.Hour))
		for _, c := range []struct {
			who    string
			fault  pagerdutyfake.Fault
			reason string
		}{
			{"bob", pagerdutyfake.Fault{Status: 503}, "PagerDuty failed (503 Service Unavailable)"},
			{"dave", pagerdutyfake.Fault{Status: 429, RateLimitReset: 30}, "PagerDuty is rate limiting the portal"},
			// No answer: the client gives up after its 3 s bound.
			{"alice", pagerdutyfake.Fault{Delay: time.Minute}, "PagerDuty did not answer within 3s"},
		} {
			p.pd.SetFault(c.fault)
			r := p.request(t, c.who, "1h")
			if r.Status != grants.RequestPending || r.AutoApproved != nil || r.Grant != nil {
				t.Errorf("%s's request with PagerDuty failing = %+v, want pending", c.who, r)
			}
			if r.PendingReason == nil || !strings.Contains(*r.PendingReason, c.reason) || strings.Contains(*r.PendingReason, "\n") {
				t.Errorf("%s's pendingReason = %v, want one line with %q", c.who, r.PendingReason, c.reason)
			}
		}
		p.pd.ClearFault()
		if st := p.client.Status(); st.Up() || st.LastError == "" {
			t.Errorf("PagerDuty status after failures = %+v, want down with the last error", st)
		}
	})
}

func TestOnCallGrantEndsWhenTakenOffCall(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newOnCallPortal(t, db)
		p.pd.PutOnCall("PPRIMARY", email("bob"), p.now.Add(-time.Hour), p.now.Add(8*time.Hour))
		p.pd.PutOnCall("PSECOND", email("dave"), p.now.Add(-time.Hour), p.now.Add(8*time.Hour))
		bob, dave := p.request(t, "bob", "2h"), p.request(t, "dave", "2h")
		if bob.Grant == nil || dave.Grant == nil || dave.rule() != "onCall: pagerduty PSECOND" {
			t.Fatalf("requests = %+v %+v, want both approved", bob, dave)
		}

		// PagerDuty down: the grants keep running.
		p.pd.SetFault(pagerdutyfake.Fault{Status: 500})
		p.now = p.now.Add(10 * time.Minute)
		if ended, err := p.store.EndOffCallGrants(t.Context(), p.now); err == nil || len(ended) != 0 {
			t.Errorf("EndOffCallGrants with PagerDuty down = %v, %v; want an error and no grant ended", ended, err)
		}
		p.pd.ClearFault()

		// An override takes bob's place; dave stays on call.
		if err := p.pd.Override("PPRIMARY", email("erin"), p.now.Add(-time.Minute), p.now.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		ended, err := p.store.EndOffCallGrants(t.Context(), p.now)
		if err != nil {
			t.Fatal(err)
		}
		if len(ended) != 1 || ended[0].ID != bob.Grant.ID {
			t.Fatalf("EndOffCallGrants ended %+v, want bob's grant %d only", ended, bob.Grant.ID)
		}
		var g apiGrant
		res, body := do(t, "GET", p.srv+path("/api/v1/grants?user=%s", email("bob")), p.tokens["alice"], "")
		var list []apiGrant
		if res.StatusCode != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 1 {
			t.Fatalf("GET grants = %d %s", res.StatusCode, body)
		}
		g = list[0]
		if g.Status != grants.GrantRevoked || g.RevokedBy != "system" || !strings.Contains(g.RevokeReason, "no longer on call in PagerDuty (PPRIMARY, PSECOND)") {
			t.Errorf("bob's grant = %+v, want revoked by system as no longer on call", g)
		}
		var ev grants.AuditEvent
		if err := db.Where("action = ? AND target = ?", "grant.revoke", path("grant:%d", bob.Grant.ID)).Take(&ev).Error; err != nil {
			t.Errorf("no grant.revoke audit event for bob's grant: %v", err)
		}
		if again, err := p.store.EndOffCallGrants(t.Context(), p.now); err != nil || len(again) != 0 {
			t.Errorf("a second check ended %v, %v; want nothing (dave is still on call)", again, err)
		}
	})
}

func TestOnCallCatalogSchedulesChecked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newOnCallPortal(t, db)
		url := p.srv + "/api/v1/catalog"
		put := func() (*http.Response, string) {
			body := strings.Replace(onCallCatalog, `["PPRIMARY", "PSECOND"]`, `["PPRIMARY", "PNOSUCH"]`, 1)
			return do(t, "PUT", url, p.tokens["alice"], body, "Content-Type", "application/hujson", "If-Match", "*")
		}
		res, body := put()
		if res.StatusCode != 400 || !strings.Contains(apiError(t, body), `resources.prod-db.onCall.pagerdutySchedules: PagerDuty has no schedule "PNOSUCH"`) {
			t.Errorf("PUT with an unknown schedule = %d %s, want 400 naming it", res.StatusCode, body)
		}
		// alice, on call in PSECOND, cannot add it to another resource.
		if err := p.pd.PutOnCall("PSECOND", email("alice"), p.now.Add(-time.Hour), p.now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		self := strings.Replace(onCallCatalog, `"resources": {`, `"resources": {
    "staging": {"group": "group:jit-staging", "onCall": {"pagerdutySchedules": ["PSECOND"]}},`, 1)
		res, body = do(t, "PUT", url, p.tokens["alice"], self, "Content-Type", "application/hujson", "If-Match", "*")
		if res.StatusCode != 409 || !strings.Contains(apiError(t, body), "you are on call in PagerDuty schedule PSECOND") {
			t.Errorf("PUT adding a schedule its author is on call in = %d %s, want 409", res.StatusCode, body)
		}
		p.pd.EndShift("PSECOND", email("alice"))
		if res, body := do(t, "PUT", url, p.tokens["alice"], self, "Content-Type", "application/hujson", "If-Match", "*"); res.StatusCode != 200 {
			t.Errorf("PUT adding a schedule with its author off call = %d %s, want 200", res.StatusCode, body)
		}

		// PagerDuty cannot be asked: a warning, the catalog is saved.
		p.pd.SetFault(pagerdutyfake.Fault{Status: 502})
		if res, body := put(); res.StatusCode != 200 {
			t.Errorf("PUT with PagerDuty down = %d %s, want 200", res.StatusCode, body)
		}
		p.pd.ClearFault()

		admin := browser(t)
		p.oidc.signIn(t, admin, email("alice"), "/admin")
		res, body = get(t, admin, p.srv+"/admin")
		if res.StatusCode != 200 || !strings.Contains(body, "On-call (PagerDuty)") || !strings.Contains(body, "PagerDuty failed (502 Bad Gateway)") {
			t.Errorf("dashboard = %d, want the PagerDuty line with the last error:\n%s", res.StatusCode, body)
		}
	})
}
