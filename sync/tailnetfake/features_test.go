package tailnetfake

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	tailscale "tailscale.com/client/tailscale/v2"
)

// startWith starts a fake like start, with extra options.
func startWith(t *testing.T, policy string, edit func(*Options)) *harness {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	opts := Options{
		Tailnet:      "example.com",
		APIKeys:      []string{testAPIKey},
		OAuthClients: map[string]string{testClientID: testClientSecret},
		Clock:        clock.Now,
		Policy:       []byte(policy),
	}
	edit(&opts)
	srv, u, closeFn, err := Start(opts)
	if err != nil {
		t.Fatalf("starting fake: %v", err)
	}
	t.Cleanup(closeFn)
	return &harness{srv: srv, url: u, clock: clock}
}

// scopedClient is the real client for an OAuth client that asks for the
// given scopes (none: the client's own).
func (h *harness) scopedClient(t *testing.T, id string, scopes ...string) *tailscale.Client {
	t.Helper()
	base, err := url.Parse(h.url)
	if err != nil {
		t.Fatal(err)
	}
	return &tailscale.Client{BaseURL: base, Auth: &tailscale.OAuth{ClientID: id, ClientSecret: id + "-secret", Scopes: scopes}}
}

func scopedClients(ids ...string) func(*Options) {
	return func(o *Options) {
		for _, id := range ids {
			scopes := strings.Split(strings.TrimPrefix(id, "k-"), "+")
			o.ScopedClients = append(o.ScopedClients, OAuthClient{ID: id, Secret: id + "-secret", Scopes: scopes})
		}
	}
}

func TestTokenWithoutScopesGetsTheClientsOwn(t *testing.T) {
	h := startWith(t, basePolicy, scopedClients("k-policy_file"))
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"k-policy_file"}, "client_secret": {"k-policy_file-secret"}}
	resp, err := http.PostForm(h.url+"/api/v2/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || tok.Scope != "policy_file" {
		t.Fatalf("token: %d %+v %v, want scope policy_file", resp.StatusCode, tok, err)
	}
	if got := h.srv.Scopes(tok.AccessToken); len(got) != 1 || got[0] != "policy_file" {
		t.Errorf("Scopes = %v", got)
	}

	ctx := context.Background()
	c := h.scopedClient(t, "k-policy_file")
	raw, err := c.PolicyFile().Raw(ctx)
	if err != nil {
		t.Fatalf("reading the policy with policy_file: %v", err)
	}
	if err := c.PolicyFile().Set(ctx, raw.HuJSON+"\n", raw.ETag); err != nil {
		t.Fatalf("writing the policy with policy_file: %v", err)
	}
	if err := c.PolicyFile().Validate(ctx, raw.HuJSON); err != nil {
		t.Fatalf("validating with policy_file: %v", err)
	}
	_, err = c.Devices().List(ctx)
	wantAPIError(t, err, http.StatusForbidden, "calling actor does not have enough permissions to perform this function")
	_, err = c.Users().List(ctx, nil, nil)
	wantAPIError(t, err, http.StatusForbidden, "enough permissions")
}

func TestTokenNamingScopesTheClientLacksIsRefused(t *testing.T) {
	h := startWith(t, basePolicy, scopedClients("k-policy_file"))
	_, err := h.scopedClient(t, "k-policy_file", "policy_file", "devices:core", "users:read").PolicyFile().Raw(context.Background())
	var retrieve *oauth2.RetrieveError
	if !errors.As(err, &retrieve) || retrieve.Response.StatusCode != http.StatusForbidden {
		t.Fatalf("err = %v, want an oauth2.RetrieveError with 403", err)
	}
	if want := `OAuth client cannot grant scopes \"devices:core users:read\"`; !strings.Contains(string(retrieve.Body), want) {
		t.Errorf("body = %s, want it to contain %s", retrieve.Body, want)
	}
	// A narrower scope than the client's own is granted.
	if _, err := h.scopedClient(t, "k-policy_file", "policy_file:read").PolicyFile().Raw(context.Background()); err != nil {
		t.Errorf("asking for policy_file:read: %v", err)
	}
}

func TestEveryRouteRequiresItsScope(t *testing.T) {
	h := startWith(t, basePolicy, scopedClients(
		"k-policy_file:read", "k-all:read", "k-devices:core", "k-devices:posture_attributes",
		"k-logs:configuration:read", "k-users:read", "k-all"))
	d := h.srv.AddDevice(Device{Name: "laptop.example.ts.net", User: "alice@example.com"})
	userID := h.srv.AddUser("alice@example.com")
	routes := []struct {
		method, path, body string
		allowed            []string
	}{
		{"GET", "/api/v2/tailnet/-/acl", "", []string{"k-policy_file:read", "k-all:read", "k-all"}},
		{"POST", "/api/v2/tailnet/-/acl", basePolicy, []string{"k-all"}},
		{"POST", "/api/v2/tailnet/-/acl/validate", basePolicy, []string{"k-policy_file:read", "k-all:read", "k-all"}},
		{"GET", "/api/v2/tailnet/-/devices", "", []string{"k-all:read", "k-devices:core", "k-all"}},
		{"GET", "/api/v2/device/" + d.NodeID, "", []string{"k-all:read", "k-devices:core", "k-all"}},
		{"GET", "/api/v2/device/" + d.NodeID + "/attributes", "", []string{"k-all:read", "k-devices:posture_attributes", "k-all"}},
		{"POST", "/api/v2/device/" + d.NodeID + "/attributes/custom:x", `{"value": true}`, []string{"k-devices:posture_attributes", "k-all"}},
		{"DELETE", "/api/v2/device/" + d.NodeID + "/attributes/custom:x", "", []string{"k-devices:posture_attributes", "k-all"}},
		{"GET", "/api/v2/tailnet/-/logging/configuration?start=2026-01-01T00:00:00Z&end=2027-01-01T00:00:00Z", "", []string{"k-all:read", "k-logs:configuration:read", "k-all"}},
		{"GET", "/api/v2/tailnet/-/users", "", []string{"k-all:read", "k-users:read", "k-all"}},
		{"GET", "/api/v2/users/" + userID, "", []string{"k-all:read", "k-users:read", "k-all"}},
	}
	clients := []string{"k-policy_file:read", "k-all:read", "k-devices:core", "k-devices:posture_attributes", "k-logs:configuration:read", "k-users:read", "k-all"}
	for _, id := range clients {
		hc := h.scopedClient(t, id)
		hc.Devices() // builds the OAuth transport
		for _, r := range routes {
			req, _ := http.NewRequest(r.method, h.url+r.path, strings.NewReader(r.body))
			resp, err := hc.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := slicesContains(r.allowed, id)
			if got := resp.StatusCode != http.StatusForbidden; got != want {
				t.Errorf("%s %s with %s: %d %s; allowed = %v", r.method, r.path, id, resp.StatusCode, body, want)
			}
			if resp.StatusCode == http.StatusForbidden && !strings.Contains(string(body), `"message":"calling actor does not have enough permissions`) {
				t.Errorf("403 body = %s", body)
			}
		}
	}
}

func slicesContains(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

func TestValidateAnswersWarningsWithoutRefusing(t *testing.T) {
	h := start(t, basePolicy)
	h.srv.SetWarnings(SCIMWarning("group:unknown@example.com"))
	resp, body := h.do(t, "POST", "/api/v2/tailnet/-/acl/validate", basePolicy, nil)
	want := `{"message":"warning(s) found","data":[{"user":"group:unknown@example.com","warnings":["group is not syncing from SCIM and will be ignored by rules in the policy file"]}]}` + "\n"
	if resp.StatusCode != http.StatusOK || string(body) != want {
		t.Errorf("validate = %d %s, want 200 %s", resp.StatusCode, body, want)
	}
	// A warning is not a refusal: the write goes through.
	edited := strings.Replace(basePolicy, `"group:sre": []`, `"group:sre": ["carol@example.com"]`, 1)
	if err := h.apiKeyClient(t, testAPIKey).PolicyFile().Set(context.Background(), edited, ""); err != nil {
		t.Fatalf("write with warnings: %v", err)
	}
	h.srv.SetWarnings()
	if _, body := h.do(t, "POST", "/api/v2/tailnet/-/acl/validate", basePolicy, nil); string(body) != "{}\n" {
		t.Errorf("validate without warnings = %s", body)
	}
}

const testedPolicy = `{
	"groups": {"group:eng": ["alice@example.com", "bob@example.com"]},
	"hosts": {"db": "100.101.0.0/16"},
	"acls": [
		{"action": "accept", "src": ["group:eng"], "dst": ["tag:prod:22,443", "db:5432"]},
	],
	"grants": [
		{"src": ["autogroup:member"], "dst": ["tag:web"], "ip": ["tcp:80-89"]},
	],
	"tests": [
		// alice reaches production over SSH
		{"src": "alice@example.com", "accept": ["tag:prod:22", "100.101.2.3:5432"], "deny": ["tag:prod:80"]},
		{"src": "tag:web", "proto": "tcp", "deny": ["tag:prod:22"]},
	],
}`

func TestFailingPolicyTestsRefuseTheWrite(t *testing.T) {
	h := start(t, testedPolicy)
	h.srv.AddUser("alice@example.com")
	ctx := context.Background()
	pf := h.apiKeyClient(t, testAPIKey).PolicyFile()

	// Removing alice from group:eng breaks her test.
	without := strings.Replace(testedPolicy, `"alice@example.com", "bob@example.com"`, `"bob@example.com"`, 1)
	err := pf.Set(ctx, without, "")
	apiErr := wantAPIError(t, err, http.StatusBadRequest, "test(s) failed")
	if len(apiErr.Data) != 1 || apiErr.Data[0].User != "alice@example.com" ||
		strings.Join(apiErr.Data[0].Errors, "|") != `address "tag:prod:22": want: Accept, got: Drop|address "100.101.2.3:5432": want: Accept, got: Drop` {
		t.Errorf("data = %+v", apiErr.Data)
	}
	if text, _ := h.srv.Policy(); string(text) != testedPolicy || h.srv.Writes() != 0 {
		t.Errorf("a refused policy was stored")
	}
	err = pf.Validate(ctx, without)
	if err == nil || !strings.Contains(err.Error(), "test(s) failed") {
		t.Errorf("Validate = %v", err)
	}

	// Opening port 80 to the group breaks the deny test.
	wider := strings.Replace(testedPolicy, "tag:prod:22,443", "tag:prod:22,80,443", 1)
	apiErr = wantAPIError(t, pf.Set(ctx, wider, ""), http.StatusBadRequest, "test(s) failed")
	if len(apiErr.Data) != 1 || apiErr.Data[0].Errors[0] != `address "tag:prod:80": want: Drop, got: Accept` {
		t.Errorf("data = %+v", apiErr.Data)
	}

	// Tests sent to validate run against the stored policy.
	_, body := h.do(t, "POST", "/api/v2/tailnet/-/acl/validate", `[{"src": "bob@example.com", "accept": ["tag:web:85"], "deny": ["tag:web:90"]}]`, nil)
	if string(body) != "{}\n" {
		t.Errorf("passing tests: %s", body)
	}
	_, body = h.do(t, "POST", "/api/v2/tailnet/-/acl/validate", `[{"src": "carol@example.com", "accept": ["tag:prod:22"]}]`, nil)
	if !strings.Contains(string(body), `"message":"test(s) failed","data":[{"user":"carol@example.com","errors":["address \"tag:prod:22\": want: Accept, got: Drop"]}]`) {
		t.Errorf("failing tests: %s", body)
	}
	if err := pf.Set(ctx, testedPolicy+"\n", ""); err != nil {
		t.Errorf("a passing policy was refused: %v", err)
	}
}

func TestPolicyTestEvaluator(t *testing.T) {
	policy := `{
		"groups": {"group:eng": ["alice@example.com"]},
		"ipsets": {"ipset:lab": ["10.1.0.0/16"]},
		"postures": {"posture:jit": ["custom:jit == true", "node:tsVersion >= '1.80'"]},
		"acls": [
			{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]},
			{"action": "accept", "src": ["group:eng"], "proto": "udp", "dst": ["ipset:lab:53"]},
			{"action": "accept", "src": ["autogroup:admin"], "dst": ["*:*"]},
		],
		"grants": [
			{"src": ["group:eng"], "dst": ["tag:db"], "ip": ["5432"], "srcPosture": ["posture:jit"]},
		],
	}`
	users := []User{
		{LoginName: "alice@example.com", Type: "member", Role: "member"},
		{LoginName: "root@example.com", Type: "member", Role: "admin"},
	}
	devices := []Device{
		{Name: "a", User: "alice@example.com", Addresses: []string{"100.64.0.1"}},
		{Name: "b", User: "bob@example.com", Addresses: []string{"10.1.2.3"}},
		{Name: "r", User: "alice@example.com", Tags: []string{"tag:router"}, Addresses: []string{"10.2.0.1"}},
	}
	jit := map[string]any{"custom:jit": true, "node:tsVersion": "1.82.0"}
	cases := []struct {
		name string
		test aclTest
		fail bool
	}{
		{"self by user", aclTest{Src: "alice@example.com", Accept: []string{"alice@example.com:22"}}, false},
		{"self by device address", aclTest{Src: "alice@example.com", Accept: []string{"100.64.0.1:22"}}, false},
		{"not another member", aclTest{Src: "alice@example.com", Deny: []string{"bob@example.com:22"}}, false},
		{"udp only", aclTest{Src: "alice@example.com", Proto: "udp", Accept: []string{"10.1.2.3:53"}}, false},
		{"tcp is not udp", aclTest{Src: "alice@example.com", Accept: []string{"10.1.2.3:53"}}, true},
		{"outside the ipset", aclTest{Src: "alice@example.com", Proto: "udp", Accept: []string{"10.2.0.1:53"}}, true},
		{"posture held", aclTest{Src: "alice@example.com", SrcPostureAttrs: jit, Accept: []string{"tag:db:5432"}}, false},
		{"posture missing", aclTest{Src: "alice@example.com", Accept: []string{"tag:db:5432"}}, true},
		{"posture too old", aclTest{Src: "alice@example.com", SrcPostureAttrs: map[string]any{"custom:jit": true, "node:tsVersion": "1.9"}, Deny: []string{"tag:db:5432"}}, false},
		{"known admin", aclTest{Src: "root@example.com", Accept: []string{"tag:db:1"}}, false},
		{"known member is not admin", aclTest{Src: "alice@example.com", Accept: []string{"tag:db:1"}}, true},
		{"unknown user may be admin", aclTest{Src: "who@example.com", Accept: []string{"tag:db:1"}}, false},
		{"unknown user may be admin (deny)", aclTest{Src: "who@example.com", Deny: []string{"tag:db:1"}}, false},
		{"unknown address may be anyone's", aclTest{Src: "alice@example.com", Accept: []string{"100.99.0.1:22"}}, false},
		{"a tagged device is not its registrar's own", aclTest{Src: "alice@example.com", Proto: "tcp", Deny: []string{"10.2.0.1:22"}}, false},
		{"tag is not a member", aclTest{Src: "tag:ci", Accept: []string{"tag:ci:22"}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := testFailures([]byte(policy), []aclTest{tc.test}, users, devices)
			if (len(got) > 0) != tc.fail {
				t.Errorf("failures = %+v, want failing = %v", got, tc.fail)
			}
		})
	}
}

func TestTaggedDevicesKeepWhoRegisteredThem(t *testing.T) {
	h := start(t, basePolicy)
	h.srv.AddDevice(Device{Name: "db.example.ts.net", User: "alice@example.com", Tags: []string{"tag:prod"}})
	h.srv.AddDevice(Device{Name: "alice-laptop.example.ts.net", User: "alice@example.com"})
	devices, err := h.apiKeyClient(t, testAPIKey).Devices().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(devices) != 2 || devices[0].User != "alice@example.com" || len(devices[0].Tags) != 1 || len(devices[1].Tags) != 0 {
		t.Errorf("devices = %+v", devices)
	}
}

func TestPostureAttributesExpire(t *testing.T) {
	h := start(t, basePolicy)
	d := h.srv.AddDevice(Device{Name: "laptop.example.ts.net", User: "alice@example.com"})
	ctx := context.Background()
	dev := h.apiKeyClient(t, testAPIKey).Devices()
	expiry := h.clock.Now().Add(time.Hour)
	err := dev.SetPostureAttribute(ctx, d.NodeID, "custom:prod_access", tailscale.DevicePostureAttributeRequest{
		Value: true, Expiry: tailscale.Time{Time: expiry}, Comment: "grant 17",
	})
	if err != nil {
		t.Fatalf("SetPostureAttribute: %v", err)
	}
	if err := dev.SetPostureAttribute(ctx, d.ID, "custom:tier", tailscale.DevicePostureAttributeRequest{Value: "gold"}); err != nil {
		t.Fatalf("SetPostureAttribute without expiry: %v", err)
	}
	got, err := dev.GetPostureAttributes(ctx, d.NodeID)
	if err != nil {
		t.Fatalf("GetPostureAttributes: %v", err)
	}
	if got.Attributes["custom:prod_access"] != true || got.Attributes["custom:tier"] != "gold" || got.Attributes["node:os"] != "linux" {
		t.Errorf("attributes = %v", got.Attributes)
	}
	if !got.Expiries["custom:prod_access"].Equal(expiry) || len(got.Expiries) != 1 {
		t.Errorf("expiries = %v", got.Expiries)
	}

	h.clock.Advance(time.Hour)
	got, err = dev.GetPostureAttributes(ctx, d.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	if _, still := got.Attributes["custom:prod_access"]; still {
		t.Errorf("attribute past its expiry still read: %v", got.Attributes)
	}
	if a := h.srv.PostureAttributes(d.NodeID); len(a) != 1 || a["custom:tier"].Value != "gold" {
		t.Errorf("PostureAttributes = %v", a)
	}

	if err := dev.DeletePostureAttribute(ctx, d.NodeID, "custom:tier"); err != nil {
		t.Fatalf("DeletePostureAttribute: %v", err)
	}
	if a := h.srv.PostureAttributes(d.NodeID); len(a) != 0 {
		t.Errorf("after delete: %v", a)
	}

	err = dev.SetPostureAttribute(ctx, d.NodeID, "node:os", tailscale.DevicePostureAttributeRequest{Value: "windows"})
	wantAPIError(t, err, http.StatusBadRequest, "only custom: attributes")
	err = dev.SetPostureAttribute(ctx, d.NodeID, "custom:late", tailscale.DevicePostureAttributeRequest{Value: 1, Expiry: tailscale.Time{Time: h.clock.Now()}})
	wantAPIError(t, err, http.StatusBadRequest, "expiry must be in the future")
	err = dev.SetPostureAttribute(ctx, "nope", "custom:x", tailscale.DevicePostureAttributeRequest{Value: 1})
	if !tailscale.IsNotFound(err) {
		t.Errorf("unknown device: %v", err)
	}

	var actions []string
	for _, e := range h.srv.ConfigLog() {
		actions = append(actions, e.Action+" "+e.Target.Property)
	}
	if strings.Join(actions, ",") != "CREATE custom:prod_access,CREATE custom:tier,DELETE custom:tier" {
		t.Errorf("log = %v", actions)
	}
}

// receiver is a webhook endpoint that records deliveries.
type receiver struct {
	mu     sync.Mutex
	status int
	got    []delivery
}

type delivery struct {
	signature string
	body      []byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.status != 0 {
		w.WriteHeader(rc.status)
		return
	}
	rc.got = append(rc.got, delivery{r.Header.Get("Tailscale-Webhook-Signature"), body})
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

func TestPolicyChangesAreSentToTheWebhookSigned(t *testing.T) {
	rc := &receiver{}
	endpoint := httptest.NewServer(rc)
	defer endpoint.Close()
	const secret = "tskey-webhook-test"
	h := startWith(t, basePolicy, func(o *Options) {
		o.Webhook = &Webhook{URL: endpoint.URL, Secret: secret, BatchWindow: time.Hour}
	})
	ctx := context.Background()
	edited := strings.Replace(basePolicy, `"group:sre": []`, `"group:sre": ["carol@example.com"]`, 1)
	if err := h.oauthClient(t, testClientSecret).PolicyFile().Set(ctx, edited, ""); err != nil {
		t.Fatal(err)
	}
	fromGit := strings.Replace(basePolicy, "// engineers", "// engineers (from git)", 1)
	if err := h.srv.ReplacePolicy([]byte(fromGit), "gitops@example.com"); err != nil {
		t.Fatalf("ReplacePolicy: %v", err)
	}
	if h.srv.Writes() != 2 || h.srv.PendingWebhookEvents() != 2 {
		t.Fatalf("writes %d, pending events %d", h.srv.Writes(), h.srv.PendingWebhookEvents())
	}

	rc.mu.Lock()
	rc.status = http.StatusServiceUnavailable
	rc.mu.Unlock()
	if err := h.srv.FlushWebhooks(); err == nil || h.srv.PendingWebhookEvents() != 2 {
		t.Fatalf("failed delivery: %v, pending %d", err, h.srv.PendingWebhookEvents())
	}
	rc.mu.Lock()
	rc.status = 0
	rc.mu.Unlock()
	if err := h.srv.FlushWebhooks(); err != nil {
		t.Fatalf("FlushWebhooks: %v", err)
	}

	got := rc.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want the two events in one", len(got))
	}
	ts := h.clock.Now().Unix()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strings.Join([]string{itoa(ts), string(got[0].body)}, ".")))
	if want := "t=" + itoa(ts) + ",v1=" + hex.EncodeToString(mac.Sum(nil)); got[0].signature != want {
		t.Errorf("signature = %q, want %q", got[0].signature, want)
	}
	var events []WebhookEvent
	if err := json.Unmarshal(got[0].body, &events); err != nil || len(events) != 2 {
		t.Fatalf("events = %s (%v)", got[0].body, err)
	}
	for i, actor := range []string{testClientID, "gitops@example.com"} {
		e := events[i]
		if e.Type != "policyUpdate" || e.Version != 1 || e.Tailnet != "example.com" || e.Data["actor"] != actor {
			t.Errorf("event %d = %+v", i, e)
		}
	}
	if events[1].Data["newPolicy"] != fromGit || events[1].Data["oldPolicy"] != edited {
		t.Errorf("policies in the event differ from the write")
	}
	if h.srv.PendingWebhookEvents() != 0 {
		t.Errorf("events left pending")
	}
}

func itoa(n int64) string { return strconvFormat(n) }

func TestReplacePolicyRunsTheTests(t *testing.T) {
	h := start(t, testedPolicy)
	broken := strings.Replace(testedPolicy, `"alice@example.com", "bob@example.com"`, `"bob@example.com"`, 1)
	err := h.srv.ReplacePolicy([]byte(broken), "gitops@example.com")
	var ref *Refusal
	if !errors.As(err, &ref) || ref.Status != http.StatusBadRequest || ref.Message != "test(s) failed" || ref.Tests[0].User != "alice@example.com" {
		t.Fatalf("ReplacePolicy(broken) = %v", err)
	}
	if h.srv.Writes() != 0 || len(h.srv.ConfigLog()) != 0 {
		t.Errorf("a refused push was stored or logged")
	}
}

func TestConfigurationLogRecordsWritesAndDeletions(t *testing.T) {
	h := start(t, basePolicy)
	h.srv.AddUser("admin@example.com")
	d := h.srv.AddDevice(Device{Name: "old.example.ts.net", User: "alice@example.com"})
	ctx := context.Background()
	c := h.apiKeyClient(t, testAPIKey)
	t0 := h.clock.Now()
	edited := basePolicy + "// edit 1\n"
	if err := c.PolicyFile().Set(ctx, edited, ""); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)
	if err := c.PolicyFile().Set(ctx, edited, ""); err != nil { // no change: no entry
		t.Fatal(err)
	}
	if err := c.Devices().Delete(ctx, d.NodeID); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	if err := h.srv.ReplacePolicy([]byte(basePolicy), "gitops@example.com"); err != nil {
		t.Fatal(err)
	}

	get := func(query string) (int, configLogResponse) {
		resp, body := h.do(t, "GET", "/api/v2/tailnet/example.com/logging/configuration"+query, "", nil)
		var out configLogResponse
		json.Unmarshal(body, &out) //nolint:errcheck // checked by the caller
		return resp.StatusCode, out
	}
	status, all := get("?start=" + t0.Format(time.RFC3339) + "&end=" + h.clock.Now().Format(time.RFC3339))
	if status != http.StatusOK || all.Tailnet != "example.com" || len(all.Logs) != 3 {
		t.Fatalf("log = %d %+v", status, all)
	}
	w := all.Logs[0]
	if w.Action != "UPDATE" || w.Target.Type != "TAILNET" || w.Target.Property != "ACL" || w.Old != basePolicy || w.New != edited ||
		w.Actor.LoginName != "admin@example.com" || w.Origin != "API" || !w.EventTime.Equal(t0) || w.EventGroupID == "" {
		t.Errorf("policy write entry = %+v", w)
	}
	if del := all.Logs[1]; del.Action != "DELETE" || del.Target.ID != d.NodeID || del.Target.Type != "NODE" {
		t.Errorf("deletion entry = %+v", del)
	}
	if git := all.Logs[2]; git.Actor.LoginName != "gitops@example.com" || git.New != basePolicy {
		t.Errorf("push entry = %+v", git)
	}
	_, first := get("?start=" + t0.Format(time.RFC3339) + "&end=" + t0.Add(30*time.Minute).Format(time.RFC3339))
	if len(first.Logs) != 2 {
		t.Errorf("window: %d entries, want 2", len(first.Logs))
	}
	if status, _ := get("?start=" + t0.Format(time.RFC3339)); status != http.StatusBadRequest {
		t.Errorf("without end: %d", status)
	}
	if status, _ := get("?start=yesterday&end=today"); status != http.StatusBadRequest {
		t.Errorf("bad times: %d", status)
	}
}

func TestPageEditsThePolicy(t *testing.T) {
	h := start(t, testedPolicy)
	h.srv.AddUser("alice@example.com")
	d := h.srv.AddDevice(Device{Name: "alice-laptop.example.ts.net", User: "alice@example.com"})
	if err := h.apiKeyClient(t, testAPIKey).Devices().SetPostureAttribute(context.Background(), d.NodeID, "custom:prod", tailscale.DevicePostureAttributeRequest{Value: true, Expiry: tailscale.Time{Time: h.clock.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(policy string, header map[string]string) (int, string) {
		form := url.Values{"policy": {policy}, "actor": {"alice@example.com"}, "via": {"console"}}
		req, _ := http.NewRequest("POST", h.url+"/policy", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	edited := strings.Replace(testedPolicy, `"bob@example.com"]`, `"bob@example.com", "carol@example.com"]`, 1)
	if status, _ := post(edited, map[string]string{"Sec-Fetch-Site": "cross-site"}); status != http.StatusForbidden {
		t.Errorf("cross-site post: %d, want 403", status)
	}
	if status, _ := post(edited, map[string]string{"Sec-Fetch-Site": "same-origin"}); status != http.StatusSeeOther {
		t.Fatalf("same-origin post: %d", status)
	}
	if text, _ := h.srv.Policy(); string(text) != edited {
		t.Errorf("the edit was not stored")
	}
	log := h.srv.ConfigLog()
	if last := log[len(log)-1]; last.Origin != "ADMIN_CONSOLE" || last.Actor.LoginName != "alice@example.com" {
		t.Errorf("log entry = %+v", last)
	}

	broken := strings.Replace(testedPolicy, `"alice@example.com", "bob@example.com"`, `"bob@example.com"`, 1)
	status, page := post(broken, nil)
	if status != http.StatusBadRequest || !strings.Contains(page, "test(s) failed") || !strings.Contains(page, "want: Accept, got: Drop") {
		t.Errorf("refused edit: %d, page shows refusal: %v", status, strings.Contains(page, "test(s) failed"))
	}
	resp, err := http.Get(h.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "custom:prod") || !strings.Contains(string(b), "until 2026-03-01 10:00:00 UTC") {
		t.Errorf("page does not show the posture attribute and its expiry")
	}
}

func strconvFormat(n int64) string { return strconv.FormatInt(n, 10) }

func TestExpiredPostureEndsAccessWithNobodyActing(t *testing.T) {
	policy := `{
		"groups": {"group:eng": ["alice@example.com"]},
		"postures": {"posture:prod": ["custom:prod == true"]},
		"grants": [{"src": ["group:eng"], "dst": ["tag:prod"], "ip": ["22"], "srcPosture": ["posture:prod"]}],
	}`
	h := start(t, policy)
	laptop := h.srv.AddDevice(Device{Name: "alice-laptop.example.ts.net", User: "alice@example.com"})
	server := h.srv.AddDevice(Device{Name: "ci.example.ts.net", User: "alice@example.com", Tags: []string{"tag:ci"}})
	if h.srv.Allows(laptop.NodeID, "tag:prod:22") {
		t.Fatal("access without the attribute")
	}
	err := h.apiKeyClient(t, testAPIKey).Devices().SetPostureAttribute(context.Background(), laptop.NodeID, "custom:prod",
		tailscale.DevicePostureAttributeRequest{Value: true, Expiry: tailscale.Time{Time: h.clock.Now().Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	if !h.srv.Allows(laptop.NodeID, "tag:prod:22") || h.srv.Allows(laptop.NodeID, "tag:prod:80") {
		t.Error("the attribute does not open exactly port 22")
	}
	if h.srv.Allows(server.NodeID, "tag:prod:22") {
		t.Error("a tagged device of alice's gets her access")
	}
	h.clock.Advance(time.Hour)
	if h.srv.Allows(laptop.NodeID, "tag:prod:22") {
		t.Error("access outlived the attribute's expiry")
	}
}

func TestRealWorldPolicyTestsAreEvaluated(t *testing.T) {
	policy := readTestdata(t)["06-rgomeztinoco-money-assistant.hujson"]
	narrowed := strings.Replace(policy, `"dst": ["tag:money-assistant:443", "tag:money-assistant:8443"],`, `"dst": ["tag:money-assistant:8443"],`, 1)
	if narrowed == policy {
		t.Fatal("the test policy changed; update this test")
	}
	h := start(t, basePolicy)
	err := h.apiKeyClient(t, testAPIKey).PolicyFile().Set(context.Background(), narrowed, "")
	apiErr := wantAPIError(t, err, http.StatusBadRequest, "test(s) failed")
	if len(apiErr.Data) != 1 || apiErr.Data[0].User != "tag:money-assistant-approved-device" ||
		len(apiErr.Data[0].Errors) != 1 || apiErr.Data[0].Errors[0] != `address "tag:money-assistant:443": want: Accept, got: Drop` {
		t.Errorf("data = %+v", apiErr.Data)
	}
}
