package oktafake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"time"
)

// Event hook delivery as Okta documents it in "Event hooks"
// (https://developer.okta.com/docs/concepts/event-hooks/):
//
//   - "data.events is an array that contains multiple events in a single
//     POST request. Events that occur within a short time of each other are
//     amalgamated": here, every event queued while the previous delivery
//     was under way goes into the next one, up to HookDelivery.MaxBatch;
//   - "events may arrive out of order": unless HookDelivery.InOrder, each
//     delivery's events are shuffled with a seeded generator;
//   - "Timeout and retry: ... a default timeout of three seconds. Okta
//     attempts at most one retry. Responses with a 4xx status code aren't
//     retried. Response with a 5xx status code are retried.";
//   - headers Accept and Content-Type application/json and the configured
//     Authorization value;
//   - failed deliveries are recorded in the System Log as event_hook.delivery
//     events;
//   - only event types tagged event-hook-eligible in the Event Types catalog
//     (https://developer.okta.com/docs/reference/api/event-types/) can be
//     subscribed to.

// DefaultHookTimeout is how long Okta waits for a hook receiver's answer.
const DefaultHookTimeout = 3 * time.Second

// DefaultHookBatch is the most events the fake puts in one delivery unless
// HookDelivery.MaxBatch says otherwise (Okta documents no number).
const DefaultHookBatch = 50

// HookDelivery configures how event hooks deliver.
type HookDelivery struct {
	// MaxBatch is the most events one delivery carries. Events that happen
	// while a delivery is under way (or while held, see HoldEventHooks) are
	// amalgamated into the next one. Zero means DefaultHookBatch; 1 sends
	// one event per delivery.
	MaxBatch int
	// InOrder keeps each delivery's events in the order they happened. By
	// default they are shuffled, as Okta may deliver them out of order.
	InOrder bool
	// Seed seeds the shuffling, so a test sees the same order every run.
	Seed uint64
	// Timeout is how long a delivery waits for the receiver's answer; zero
	// means DefaultHookTimeout (Okta's three seconds).
	Timeout time.Duration
}

// hookEligible are the event types the fake publishes that Okta lets an
// event hook subscribe to (tag event-hook-eligible in the catalog).
var hookEligible = []string{
	"user.lifecycle.create", "user.lifecycle.activate", "user.lifecycle.reactivate",
	"user.lifecycle.deactivate", "user.lifecycle.suspend", "user.lifecycle.unsuspend",
	"user.lifecycle.delete.initiated",
	"user.account.lock", "user.account.unlock", "user.account.unlock_by_admin",
	"user.account.reset_password", "user.account.update_password", "user.account.update_profile",
	"user.session.start",
	"group.user_membership.add", "group.user_membership.remove",
	"group.lifecycle.create", "group.lifecycle.delete",
}

// eventHook is a registered, active event hook.
type eventHook struct {
	id         string
	url        string
	authHeader string
	types      []string
}

// queuedEvent is an event waiting for delivery to one hook.
type queuedEvent struct {
	hook  *eventHook
	event Event
}

// HookAttempt is one POST the fake made to an event hook.
type HookAttempt struct {
	HookID string
	// EventIDs are the uuids of the delivery's events, in the order sent.
	EventIDs []string
	// Retry is true for the second (and last) attempt of a delivery.
	Retry bool
	// Status is the receiver's HTTP status; 0 when there was no answer.
	Status int
	// Err says why the attempt failed (nil on a 2xx).
	Err error
}

// AddEventHook registers an active, verified event hook: from now on every
// change to the org of one of eventTypes (every hook-eligible type when
// none are given) is POSTed to hookURL with authHeader as the Authorization
// header (omitted when empty), batched, possibly out of order, with one
// retry after a timeout, a network error or a 5xx and none after a 4xx (see
// HookDelivery). It returns the hook's id. It panics for an event type Okta
// does not let hooks subscribe to. Close stops delivery.
func (s *Server) AddEventHook(hookURL, authHeader string, eventTypes ...string) string {
	for _, t := range eventTypes {
		if !slices.Contains(hookEligible, t) {
			panic(fmt.Sprintf("oktafake: AddEventHook: %q is not an event-hook-eligible event type", t))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &eventHook{id: "who" + randomID(17), url: hookURL, authHeader: authHeader, types: eventTypes}
	s.hooks = append(s.hooks, h)
	if !s.workerStarted && !s.closed {
		s.workerStarted = true
		s.workerWG.Add(1)
		go s.deliverLoop()
	}
	return h.id
}

// RemoveEventHook stops sending to the hook with that id; events already
// queued for it are dropped.
func (s *Server) RemoveEventHook(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = slices.DeleteFunc(s.hooks, func(h *eventHook) bool { return h.id == id })
	before := len(s.queue)
	s.queue = slices.DeleteFunc(s.queue, func(q queuedEvent) bool { return q.hook.id == id })
	s.pending -= before - len(s.queue)
}

// HoldEventHooks stops starting deliveries: events queue up until
// ReleaseEventHooks, which lets tests build batches of a known size.
func (s *Server) HoldEventHooks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = true
}

// ReleaseEventHooks lets held events be delivered.
func (s *Server) ReleaseEventHooks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = false
	s.wake.Broadcast()
}

// HookAttempts returns every delivery attempt made so far, in order.
func (s *Server) HookAttempts() []HookAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attempts)
}

// FlushEventHooks waits until every event published so far has been
// delivered (or dropped), or ctx ends. Held events are not delivered.
func (s *Server) FlushEventHooks(ctx context.Context) error {
	for {
		s.mu.Lock()
		n := s.pending
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// queueHooksLocked queues an event for every hook subscribed to its type.
func (s *Server) queueHooksLocked(e Event) {
	if s.closed || !slices.Contains(hookEligible, e.EventType) {
		return
	}
	for _, h := range s.hooks {
		if len(h.types) > 0 && !slices.Contains(h.types, e.EventType) {
			continue
		}
		s.queue = append(s.queue, queuedEvent{hook: h, event: e})
		s.pending++
	}
	s.wake.Broadcast()
}

// nextBatchLocked waits for queued events and takes the next delivery's:
// the oldest event's hook and up to MaxBatch of that hook's events.
func (s *Server) nextBatchLocked() (*eventHook, []Event, bool) {
	for !s.closed && (len(s.queue) == 0 || s.held) {
		s.wake.Wait()
	}
	if s.closed {
		return nil, nil, false
	}
	hook := s.queue[0].hook
	var batch []Event
	rest := s.queue[:0]
	for _, q := range s.queue {
		if q.hook == hook && len(batch) < s.maxBatch() {
			batch = append(batch, q.event)
			continue
		}
		rest = append(rest, q)
	}
	s.queue = rest
	if !s.opts.Hooks.InOrder {
		s.rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
	}
	return hook, batch, true
}

func (s *Server) maxBatch() int {
	if s.opts.Hooks.MaxBatch > 0 {
		return s.opts.Hooks.MaxBatch
	}
	return DefaultHookBatch
}

func (s *Server) hookTimeout() time.Duration {
	if s.opts.Hooks.Timeout > 0 {
		return s.opts.Hooks.Timeout
	}
	return DefaultHookTimeout
}

func (s *Server) deliverLoop() {
	defer s.workerWG.Done()
	for {
		s.mu.Lock()
		hook, batch, ok := s.nextBatchLocked()
		source := s.issuer + "/api/v1/eventHooks/" + hookIDOf(hook)
		s.mu.Unlock()
		if !ok {
			return
		}
		s.deliver(hook, source, batch)
		s.mu.Lock()
		s.pending -= len(batch)
		s.mu.Unlock()
	}
}

func hookIDOf(h *eventHook) string {
	if h == nil {
		return ""
	}
	return h.id
}

// deliver POSTs one batch, retrying once unless the receiver answered 4xx.
func (s *Server) deliver(hook *eventHook, source string, batch []Event) {
	ids := make([]string, len(batch))
	for i, e := range batch {
		ids[i] = e.UUID
	}
	var status int
	var err error
	for attempt := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), s.hookTimeout())
		status, err = s.post(ctx, hook.url, hook.authHeader, source, batch)
		cancel()
		s.mu.Lock()
		s.attempts = append(s.attempts, HookAttempt{HookID: hook.id, EventIDs: ids, Retry: attempt == 1, Status: status, Err: err})
		s.mu.Unlock()
		if err == nil || status >= 400 && status < 500 {
			break
		}
	}
	if err == nil {
		return
	}
	slog.Warn("oktafake: event hook delivery failed", "hook", hook.url, "events", len(batch), "err", err)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := Event{EventType: "event_hook.delivery", Outcome: "FAILURE",
		Target: []Target{{ID: hook.id, Type: "EventHook", AlternateID: hook.url, DisplayName: hook.url}}}
	s.fillEvent(&e)
	e.DisplayMessage = "Event hook delivery failed"
	s.appendLogLocked(e)
}

// DeliverEvent POSTs events to hookURL at once, in one Okta event hook
// envelope, with authHeader as the Authorization header (omitted when
// empty). Zero event fields get defaults (see Event). It fails unless the
// receiver answers 2xx; it does not retry.
func (s *Server) DeliverEvent(ctx context.Context, hookURL, authHeader string, events ...Event) error {
	for i := range events {
		s.fillEvent(&events[i])
	}
	s.mu.Lock()
	source := s.issuer + "/api/v1/eventHooks/who" + s.orgID[3:]
	s.mu.Unlock()
	_, err := s.post(ctx, hookURL, authHeader, source, events)
	return err
}

// errHookStatus is a delivery answered with a status other than 2xx.
var errHookStatus = errors.New("event hook receiver refused the delivery")

func (s *Server) post(ctx context.Context, hookURL, authHeader, source string, events []Event) (int, error) {
	env := HookEnvelope{
		EventType:          "com.okta.event_hook",
		EventTypeVersion:   "1.0",
		CloudEventsVersion: "0.1",
		Source:             source,
		EventID:            newUUID(),
		EventTime:          s.now().Format(oktaTimeFormat),
		ContentType:        "application/json",
	}
	env.Data.Events = events
	body, err := json.Marshal(env)
	if err != nil {
		return 0, fmt.Errorf("encoding event hook delivery: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hookURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("delivering event hook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if authHeader != "" {
		req.Header.Set("Authorization", authHeader)
	}
	resp, err := s.hookHTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("delivering event hook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("delivering event hook: %s answered %s: %w", hookURL, resp.Status, errHookStatus)
	}
	return resp.StatusCode, nil
}

func newHookRand(seed uint64) *mrand.Rand {
	if seed == 0 {
		seed = 1
	}
	return mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
