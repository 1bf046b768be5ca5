package tailnet

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessportal/portal/sync/tailnetfake"
)

func TestVerifyWebhookFromTheSimulatedTailnet(t *testing.T) {
	const secret = "tskey-webhook-abc"
	var mu sync.Mutex
	var header string
	var body []byte
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		header, body = r.Header.Get(WebhookSignatureHeader), b
		mu.Unlock()
	}))
	defer endpoint.Close()
	srv, _, clock := startSimulatedTailnet(t, func(o *tailnetfake.Options) {
		o.Webhook = &tailnetfake.Webhook{URL: endpoint.URL, Secret: secret, BatchWindow: time.Hour}
		o.Policy = []byte(`{"groups": {"group:eng": []}}`)
	})
	if err := srv.ReplacePolicy([]byte(`{"groups": {"group:eng": ["alice@example.com"]}}`), "gitops@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := srv.FlushWebhooks(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	now := clock.Now().Add(30 * time.Second)
	if err := VerifyWebhook(secret, header, body, now, 5*time.Minute); err != nil {
		t.Fatalf("VerifyWebhook: %v", err)
	}
	events, err := ParseWebhookEvents(body)
	if err != nil || len(events) != 1 {
		t.Fatalf("events = %v, %v", events, err)
	}
	e := events[0]
	if e.Type != EventPolicyUpdate || e.Actor() != "gitops@example.com" || e.Tailnet != "example.com" || !e.Timestamp.Equal(clock.Now()) {
		t.Errorf("event = %+v", e)
	}

	for name, tc := range map[string]struct {
		secret, header string
		body           []byte
		now            time.Time
		want           error
	}{
		"wrong secret":    {"tskey-webhook-other", header, body, now, ErrWebhookSignature},
		"altered body":    {secret, header, append([]byte(" "), body...), now, ErrWebhookSignature},
		"too old":         {secret, header, body, clock.Now().Add(6 * time.Minute), ErrWebhookStale},
		"from the future": {secret, header, body, clock.Now().Add(-6 * time.Minute), ErrWebhookStale},
		"no header":       {secret, "", body, now, ErrWebhookUnsigned},
		"no v1":           {secret, strings.Split(header, ",")[0], body, now, ErrWebhookUnsigned},
		"no timestamp":    {secret, strings.Split(header, ",")[1], body, now, ErrWebhookMalformed},
		"garbage":         {secret, "t=abc,v1=00", body, now, ErrWebhookMalformed},
		"no secret":       {"", header, body, now, ErrWebhookSignature},
	} {
		if err := VerifyWebhook(tc.secret, tc.header, tc.body, tc.now, 5*time.Minute); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	// Several v1 signatures (a secret being rotated): one match is enough.
	two := strings.Replace(header, "v1=", "v1=00ff,v1=", 1)
	if err := VerifyWebhook(secret, two, body, now, 5*time.Minute); err != nil {
		t.Errorf("two signatures: %v", err)
	}
}

func TestParseWebhookEventsRefusesAnythingButAnArray(t *testing.T) {
	if _, err := ParseWebhookEvents([]byte(`{"type": "policyUpdate"}`)); err == nil {
		t.Error("an object was accepted")
	}
	events, err := ParseWebhookEvents([]byte(`[{"type":"nodeCreated","data":{"nodeID":"n1"}},{"type":"policyUpdate","data":{"actor":"a@example.com"}}]`))
	if err != nil || len(events) != 2 || events[1].Actor() != "a@example.com" || events[0].Actor() != "" {
		t.Errorf("events = %+v, %v", events, err)
	}
}
