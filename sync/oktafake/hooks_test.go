package oktafake

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// hookReceiver records event hook deliveries like the portal's /hooks/okta would.
type hookReceiver struct {
	mu         sync.Mutex
	deliveries []HookEnvelope
	raw        []map[string]any
	auth       []string
	status     int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		challenge := r.Header.Get("X-Okta-Verification-Challenge")
		_ = json.NewEncoder(w).Encode(map[string]string{"verification": challenge})
		return
	}
	body, _ := io.ReadAll(r.Body)
	var env HookEnvelope
	var raw map[string]any
	_ = json.Unmarshal(body, &env)
	_ = json.Unmarshal(body, &raw)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deliveries = append(h.deliveries, env)
	h.raw = append(h.raw, raw)
	h.auth = append(h.auth, r.Header.Get("Authorization"))
	if h.status != 0 {
		w.WriteHeader(h.status)
	}
}

func (h *hookReceiver) events() []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Event
	for _, d := range h.deliveries {
		out = append(out, d.Data.Events...)
	}
	return out
}

func flush(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.FlushEventHooks(ctx); err != nil {
		t.Fatalf("waiting for hook deliveries: %v", err)
	}
}

func TestStateChangesAreDeliveredToEventHooks(t *testing.T) {
	clock := newTestClock(t0)
	s, issuer := startFake(t, Options{Clock: clock.Now, Hooks: HookDelivery{InOrder: true}})
	g := s.AddGroup("Engineering", "")
	alice := s.AddUser(User{Login: "alice@example.com", FirstName: "Alice", LastName: "L"})
	recv := &hookReceiver{}
	hook := httptest.NewServer(recv)
	defer hook.Close()
	hookID := s.AddEventHook(hook.URL, "Bearer hook-secret", "user.lifecycle.deactivate", "group.user_membership.add", "group.user_membership.remove")

	if err := s.AddMember(g, alice); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if err := s.SetUserStatus(alice, StatusDeprovisioned); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserStatus(alice, StatusActive); err != nil { // not subscribed
		t.Fatal(err)
	}
	if err := s.RemoveMember(g, alice); err != nil {
		t.Fatal(err)
	}
	flush(t, s)

	evs := recv.events()
	var types []string
	for _, e := range evs {
		types = append(types, e.EventType)
	}
	want := []string{"group.user_membership.add", "user.lifecycle.deactivate", "group.user_membership.remove"}
	if len(types) != len(want) || types[0] != want[0] || types[1] != want[1] || types[2] != want[2] {
		t.Fatalf("delivered %v, want %v", types, want)
	}
	add := evs[0]
	if len(add.Target) != 2 || add.Target[0] != (Target{ID: alice, Type: "User", AlternateID: "alice@example.com", DisplayName: "Alice L"}) ||
		add.Target[1].ID != g || add.Target[1].Type != "UserGroup" || add.Target[1].DisplayName != "Engineering" {
		t.Errorf("membership targets = %+v", add.Target)
	}
	deact := evs[1]
	if !deact.Published.Equal(t0.Add(time.Second)) || deact.UUID == "" || deact.Severity != "INFO" || deact.DisplayMessage != "Deactivate Okta user" || deact.Actor.Type != "User" {
		t.Errorf("deactivate event = %+v", deact)
	}

	recv.mu.Lock()
	defer recv.mu.Unlock()
	env, raw := recv.deliveries[0], recv.raw[0]
	if env.EventType != "com.okta.event_hook" || env.EventTypeVersion != "1.0" || env.CloudEventsVersion != "0.1" ||
		env.ContentType != "application/json" || env.EventID == "" || env.Source != issuer+"/api/v1/eventHooks/"+hookID {
		t.Errorf("envelope = %+v", env)
	}
	first := raw["data"].(map[string]any)["events"].([]any)[0].(map[string]any)
	for _, field := range []string{"uuid", "published", "eventType", "version", "displayMessage", "severity", "actor", "target", "outcome", "client", "transaction"} {
		if _, ok := first[field]; !ok {
			t.Errorf("event lacks %q: %v", field, first)
		}
	}
	if recv.auth[0] != "Bearer hook-secret" {
		t.Errorf("Authorization = %q", recv.auth[0])
	}
}

func TestRemovedHooksGetNothing(t *testing.T) {
	s, _ := startFake(t, Options{})
	recv := &hookReceiver{}
	hook := httptest.NewServer(recv)
	defer hook.Close()
	id := s.AddEventHook(hook.URL, "")
	s.AddUser(User{Login: "a@example.com"})
	flush(t, s)
	n := len(recv.events())
	if n == 0 {
		t.Fatal("no events for a new user")
	}
	s.RemoveEventHook(id)
	s.AddUser(User{Login: "b@example.com"})
	flush(t, s)
	if len(recv.events()) != n {
		t.Error("a removed hook still got events")
	}
}

func TestDeliverEventSendsOneEnvelopeAndReportsFailure(t *testing.T) {
	s, _ := startFake(t, Options{})
	bob := s.AddUser(User{Login: "bob@example.com"})
	recv := &hookReceiver{}
	hook := httptest.NewServer(recv)
	defer hook.Close()
	target, ok := s.UserTarget("bob@example.com")
	if !ok {
		t.Fatal("no target for bob")
	}
	ctx := context.Background()
	if err := s.DeliverEvent(ctx, hook.URL, "secret", s.NewEvent("user.lifecycle.suspend", target), Event{EventType: "user.lifecycle.deactivate", Target: []Target{target}}); err != nil {
		t.Fatal(err)
	}
	evs := recv.events()
	recv.mu.Lock()
	n := len(recv.deliveries)
	recv.status = http.StatusInternalServerError
	recv.mu.Unlock()
	if n != 1 || len(evs) != 2 || evs[1].Target[0].ID != bob || evs[1].UUID == "" || evs[1].Version != "0" {
		t.Errorf("delivered %d envelopes with %+v", n, evs)
	}
	if err := s.DeliverEvent(ctx, hook.URL, "secret", s.NewEvent("user.lifecycle.suspend", target)); err == nil {
		t.Error("a 500 from the receiver was not reported")
	}
}

func TestVerifyHook(t *testing.T) {
	s, _ := startFake(t, Options{})
	good := httptest.NewServer(&hookReceiver{})
	defer good.Close()
	if err := s.VerifyHook(context.Background(), good.URL); err != nil {
		t.Errorf("a correct receiver failed verification: %v", err)
	}
	wrong := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"verification":"something else"}`))
	}))
	defer wrong.Close()
	if err := s.VerifyHook(context.Background(), wrong.URL); err == nil {
		t.Error("a receiver echoing the wrong challenge passed verification")
	}
}
