package tailnetfake

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Webhook is a webhook endpoint of the tailnet, subscribed to policyUpdate.
//
// Delivery follows "Webhooks" (https://tailscale.com/kb/1213/webhooks) and
// Tailscale's example consumer (docs/webhooks/example.go in
// github.com/tailscale/tailscale): an HTTPS POST whose body is a JSON array
// of events — several events can arrive in one request — signed in the
// Tailscale-Webhook-Signature header as "t=<unix seconds>,v1=<hex>", where
// v1 is the HMAC-SHA256, keyed with the secret, of "<t>.<body>". Events
// typically arrive within a few seconds; a delivery that fails (no answer or
// not 2xx) keeps its events for the next attempt, as the real service
// retries.
type Webhook struct {
	URL    string
	Secret string // e.g. "tskey-webhook-…"
	// BatchWindow is how long events are gathered before a delivery.
	// Default 2 seconds. Tests call [Server.FlushWebhooks] instead of
	// waiting.
	BatchWindow time.Duration
	// Client sends the deliveries. Default: a client with a 10-second
	// timeout.
	Client *http.Client
}

// WebhookEvent is one event of a delivery, in Tailscale's payload shape.
type WebhookEvent struct {
	Timestamp time.Time         `json:"timestamp"`
	Version   int               `json:"version"`
	Type      string            `json:"type"`
	Tailnet   string            `json:"tailnet"`
	Message   string            `json:"message"`
	Data      map[string]string `json:"data"`
}

// SignWebhook returns the Tailscale-Webhook-Signature header value for body
// sent at t with secret.
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// webhookSender gathers events and delivers them in batches.
type webhookSender struct {
	hook    Webhook
	tailnet string
	clock   func() time.Time

	send    sync.Mutex // one delivery at a time, in order
	mu      sync.Mutex
	pending []WebhookEvent
	timer   *time.Timer
}

func newWebhookSender(h Webhook, tailnet string, clock func() time.Time) *webhookSender {
	if h.BatchWindow <= 0 {
		h.BatchWindow = 2 * time.Second
	}
	if h.Client == nil {
		h.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &webhookSender{hook: h, tailnet: tailnet, clock: clock}
}

// policyUpdate queues a policyUpdate event. Its data carries the new and
// old policy texts, the admin console's policy URL and the actor, after the
// event list of "Webhooks" (section "Events payload"); a receiver should
// take it only as a wake-up and re-read the policy.
func (w *webhookSender) policyUpdate(oldText, newText []byte, actor string) {
	e := WebhookEvent{
		Timestamp: w.clock().UTC(),
		Version:   1,
		Type:      "policyUpdate",
		Tailnet:   w.tailnet,
		Message:   "Tailnet policy file updated",
		Data: map[string]string{
			"newPolicy": string(newText),
			"oldPolicy": string(oldText),
			"url":       "https://login.tailscale.com/admin/acls",
			"actor":     actor,
		},
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = append(w.pending, e)
	if w.timer == nil {
		w.timer = time.AfterFunc(w.hook.BatchWindow, func() { w.flush() }) //nolint:errcheck // retried on the next flush
	}
}

// flush delivers every pending event in one signed request.
func (w *webhookSender) flush() error {
	w.send.Lock()
	defer w.send.Unlock()
	w.mu.Lock()
	batch := w.pending
	w.pending = nil
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := w.deliver(batch); err != nil {
		w.mu.Lock()
		w.pending = append(batch, w.pending...)
		w.mu.Unlock()
		return err
	}
	return nil
}

func (w *webhookSender) deliver(batch []WebhookEvent) error {
	body, err := json.Marshal(batch)
	if err != nil {
		return fmt.Errorf("encoding webhook events: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, w.hook.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Tailscale-Webhook-Signature", SignWebhook(w.hook.Secret, w.clock(), body))
	resp, err := w.hook.Client.Do(req)
	if err != nil {
		return fmt.Errorf("delivering webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("delivering webhook: endpoint answered %s", resp.Status)
	}
	return nil
}

// stop cancels a scheduled delivery; pending events stay pending.
func (w *webhookSender) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// FlushWebhooks delivers every pending webhook event now, in one request,
// and returns the delivery's error; failed events stay pending. Without a
// configured webhook it does nothing.
func (s *Server) FlushWebhooks() error {
	if s.hooks == nil {
		return nil
	}
	return s.hooks.flush()
}

// PendingWebhookEvents returns how many events wait for delivery.
func (s *Server) PendingWebhookEvents() int {
	if s.hooks == nil {
		return 0
	}
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return len(s.hooks.pending)
}

// PendingWebhookEventsOf returns how many events of type typ (e.g.
// "policyUpdate") wait for delivery.
func (s *Server) PendingWebhookEventsOf(typ string) int {
	if s.hooks == nil {
		return 0
	}
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	n := 0
	for _, e := range s.hooks.pending {
		if e.Type == typ {
			n++
		}
	}
	return n
}
