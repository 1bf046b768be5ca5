package slack

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestVerify(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	v := Verifier{Secret: "s3cret", Clock: func() time.Time { return now }}
	body := "token=x&user_id=U1&text=prod-db+1h+why"
	tests := []struct {
		name    string
		secret  string
		at      time.Time
		body    string // what arrives, signed body is always body
		headers map[string]string
		want    error
	}{
		{name: "authentic", secret: "s3cret", at: now.Add(-time.Minute), body: body},
		{name: "clock a little behind", secret: "s3cret", at: now.Add(4 * time.Minute), body: body},
		{name: "other secret", secret: "other", at: now, body: body, want: slack.ErrInvalidSignature},
		{name: "body changed", secret: "s3cret", at: now, body: body + "&extra=1", want: slack.ErrInvalidSignature},
		{name: "six minutes old", secret: "s3cret", at: now.Add(-6 * time.Minute), body: body, want: slack.ErrExpiredTimestamp},
		{name: "from the future", secret: "s3cret", at: now.Add(6 * time.Minute), body: body, want: slack.ErrExpiredTimestamp},
		{name: "no signature", secret: "s3cret", at: now, body: body, headers: map[string]string{"X-Slack-Signature": ""}, want: slack.ErrMissingHeaders},
		{name: "no timestamp", secret: "s3cret", at: now, body: body, headers: map[string]string{"X-Slack-Request-Timestamp": ""}, want: slack.ErrMissingHeaders},
		{name: "v1 prefix", secret: "s3cret", at: now, body: body, headers: map[string]string{"X-Slack-Signature": "v1=00"}, want: slack.ErrInvalidSignature},
		{name: "timestamp not a number", secret: "s3cret", at: now, body: body, headers: map[string]string{"X-Slack-Request-Timestamp": "soon"}, want: slack.ErrExpiredTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, stamp := Sign(tt.secret, tt.at, []byte(body))
			r := httptest.NewRequest("POST", "/slack/commands", strings.NewReader(tt.body))
			r.Header.Set("X-Slack-Signature", sig)
			r.Header.Set("X-Slack-Request-Timestamp", stamp)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			got, err := v.Verify(r)
			if tt.want == nil {
				if err != nil || string(got) != body {
					t.Fatalf("Verify = %q, %v", got, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !IsVerifyError(err) || got != nil {
				t.Errorf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestSignMatchesSlackGo checks Sign against slack-go's own verifier, so
// the signature is Slack's and not only this package's belief.
func TestSignMatchesSlackGo(t *testing.T) {
	body := []byte(`payload=%7B%22type%22%3A%22block_actions%22%7D`)
	sig, stamp := Sign("s3cret", time.Now(), body)
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Slack-Signature", sig)
	r.Header.Set("X-Slack-Request-Timestamp", stamp)
	sv, err := slack.NewSecretsVerifier(r.Header, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	sv.Write(body)
	if err := sv.Ensure(); err != nil {
		t.Errorf("slack-go rejects Sign's signature: %v", err)
	}
}

func TestVerifyRefusesWithoutSecret(t *testing.T) {
	sig, stamp := Sign("", time.Now(), nil)
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Slack-Signature", sig)
	r.Header.Set("X-Slack-Request-Timestamp", stamp)
	if _, err := (Verifier{}).Verify(r); !IsVerifyError(err) {
		t.Errorf("an empty secret verified a request: %v", err)
	}
}
