package tailnet

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/accessportal/portal/grants/nesting"
)

// Tailscale webhooks ("Webhooks", https://tailscale.com/kb/1213/webhooks,
// and Tailscale's example consumer docs/webhooks/example.go in
// github.com/tailscale/tailscale): the body is a JSON array of events —
// several may come in one request — and the Tailscale-Webhook-Signature
// header is "t=<unix seconds>,v1=<hex>", v1 being the HMAC-SHA256 of
// "<t>.<body>" keyed with the webhook's secret. Tailscale suggests
// refusing timestamps older than five minutes.

// WebhookSignatureHeader is the header that carries a delivery's signature.
const WebhookSignatureHeader = "Tailscale-Webhook-Signature"

// EventPolicyUpdate is the type of the event sent when the tailnet policy
// file changes, by whatever means (admin console, API, GitOps).
const EventPolicyUpdate = "policyUpdate"

// Errors of VerifyWebhook; the returned error wraps one of them.
var (
	ErrWebhookUnsigned  = errors.New("webhook has no signature")
	ErrWebhookMalformed = errors.New("webhook signature header is malformed")
	ErrWebhookSignature = errors.New("webhook signature does not match")
	ErrWebhookStale     = errors.New("webhook timestamp is outside the accepted age")
)

// WebhookEvent is one event of a Tailscale webhook delivery.
type WebhookEvent struct {
	Timestamp time.Time      `json:"timestamp"`
	Version   int            `json:"version"`
	Type      string         `json:"type"`
	Tailnet   string         `json:"tailnet"`
	Message   string         `json:"message"`
	Data      map[string]any `json:"data"`
}

// Actor returns who caused the event ("actor" in its data), or "" when
// the event does not say.
func (e WebhookEvent) Actor() string {
	s, _ := e.Data["actor"].(string)
	return s
}

// VerifyWebhook checks a delivery's Tailscale-Webhook-Signature header
// against body and secret, and that its timestamp lies within maxAge of now
// (either side, to allow for clock skew). It returns nil for an authentic,
// fresh delivery.
func VerifyWebhook(secret string, header string, body []byte, now time.Time, maxAge time.Duration) error {
	if secret == "" {
		return fmt.Errorf("verifying webhook: no secret configured: %w", ErrWebhookSignature)
	}
	ts, sigs, err := parseSignatureHeader(header)
	if err != nil {
		return fmt.Errorf("verifying webhook: %w", err)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	matched := false
	for _, sig := range sigs {
		if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) == 1 {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("verifying webhook: %w", ErrWebhookSignature)
	}
	if age := now.Sub(time.Unix(ts, 0)); age > maxAge || age < -maxAge {
		return fmt.Errorf("verifying webhook: signed %s ago, accepted up to %s: %w", age.Round(time.Second), maxAge, ErrWebhookStale)
	}
	return nil
}

// parseSignatureHeader splits "t=…,v1=…[,v1=…]" into the timestamp and the
// v1 signatures; unknown parts are ignored, as in Tailscale's example.
func parseSignatureHeader(header string) (ts int64, sigs []string, err error) {
	if strings.TrimSpace(header) == "" {
		return 0, nil, ErrWebhookUnsigned
	}
	haveTS := false
	for _, pair := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return 0, nil, ErrWebhookMalformed
		}
		switch k {
		case "t":
			ts, err = strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, nil, ErrWebhookMalformed
			}
			haveTS = true
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if !haveTS {
		return 0, nil, ErrWebhookMalformed
	}
	if len(sigs) == 0 {
		return 0, nil, ErrWebhookUnsigned
	}
	return ts, sigs, nil
}

// ParseWebhookEvents decodes a delivery's body: a JSON array of events.
// Verify the delivery first.
func ParseWebhookEvents(body []byte) ([]WebhookEvent, error) {
	var events []WebhookEvent
	if err := nesting.Check(body, nesting.Max); err != nil {
		return nil, fmt.Errorf("decoding webhook events: %w", err)
	}
	if err := json.Unmarshal(body, &events); err != nil {
		return nil, fmt.Errorf("decoding webhook events: %w", err)
	}
	return events, nil
}
