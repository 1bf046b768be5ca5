package oktafake

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// statusReceiver answers each delivery with the next status of its script
// (200 when the script is over) and records what came.
type statusReceiver struct {
	hookReceiver
	mu      sync.Mutex
	script  []int
	accepts []string
}

func (s *statusReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	status := http.StatusOK
	if len(s.script) > 0 {
		status, s.script = s.script[0], s.script[1:]
	}
	s.accepts = append(s.accepts, r.Header.Get("Accept")+" "+r.Header.Get("Content-Type"))
	s.mu.Unlock()
	s.hookReceiver.mu.Lock()
	s.hookReceiver.status = status
	s.hookReceiver.mu.Unlock()
	s.hookReceiver.ServeHTTP(w, r)
}

func batchSizes(h *hookReceiver) []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []int
	for _, d := range h.deliveries {
		out = append(out, len(d.Data.Events))
	}
	return out
}

func TestHookDeliveriesAreBatched(t *testing.T) {
	s, _ := startFake(t, Options{Hooks: HookDelivery{MaxBatch: 3, InOrder: true}})
	recv := &hookReceiver{}
	hook := httptest.NewServer(recv)
	defer hook.Close()
	s.AddEventHook(hook.URL, "secret", "user.lifecycle.create")
	s.HoldEventHooks()
	for _, login := range []string{"a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com"} {
		s.AddUser(User{Login: login})
	}
	s.ReleaseEventHooks()
	flush(t, s)
	if got := batchSizes(recv); !slices.Equal(got, []int{3, 2}) {
		t.Errorf("deliveries of %v events, want [3 2]", got)
	}
	var logins []string
	for _, e := range recv.events() {
		logins = append(logins, e.Target[0].AlternateID)
	}
	if !slices.Equal(logins, []string{"a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com"}) {
		t.Errorf("in-order delivery sent %v", logins)
	}
}

// shuffled returns the logins of one held batch of ten creations.
func shuffled(t *testing.T, seed uint64) []string {
	s, _ := startFake(t, Options{Hooks: HookDelivery{Seed: seed}})
	recv := &hookReceiver{}
	hook := httptest.NewServer(recv)
	t.Cleanup(hook.Close)
	s.AddEventHook(hook.URL, "", "user.lifecycle.create")
	s.HoldEventHooks()
	for i := range 10 {
		s.AddUser(User{Login: string(rune('a'+i)) + "@x.com"})
	}
	s.ReleaseEventHooks()
	flush(t, s)
	var logins []string
	for _, e := range recv.events() {
		logins = append(logins, e.Target[0].AlternateID)
	}
	return logins
}

func TestHookDeliveriesComeOutOfOrderReproducibly(t *testing.T) {
	a, b := shuffled(t, 7), shuffled(t, 7)
	if len(a) != 10 || !slices.Equal(a, b) {
		t.Fatalf("same seed, different deliveries: %v and %v", a, b)
	}
	if slices.IsSorted(a) {
		t.Errorf("ten events came in order %v; Okta may deliver out of order", a)
	}
	if c := shuffled(t, 8); slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same order %v", a)
	}
}

func TestHookRetriesFollowOktasRules(t *testing.T) {
	cases := []struct {
		name      string
		script    []int
		attempts  int
		delivered bool
	}{
		{"4xx is not retried", []int{http.StatusBadRequest}, 1, false},
		{"401 is not retried", []int{http.StatusUnauthorized}, 1, false},
		{"5xx is retried once", []int{http.StatusServiceUnavailable, http.StatusServiceUnavailable}, 2, false},
		{"a retry can succeed", []int{http.StatusInternalServerError, http.StatusOK}, 2, true},
		{"2xx is done", []int{http.StatusNoContent}, 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := startFake(t, Options{Hooks: HookDelivery{InOrder: true}})
			recv := &statusReceiver{script: c.script}
			hook := httptest.NewServer(recv)
			defer hook.Close()
			id := s.AddEventHook(hook.URL, "", "user.lifecycle.create")
			s.AddUser(User{Login: "a@x.com"})
			flush(t, s)
			attempts := s.HookAttempts()
			if len(attempts) != c.attempts || attempts[0].HookID != id || attempts[0].Retry || len(attempts[0].EventIDs) != 1 {
				t.Fatalf("attempts %+v, want %d", attempts, c.attempts)
			}
			if c.attempts == 2 && (!attempts[1].Retry || !slices.Equal(attempts[1].EventIDs, attempts[0].EventIDs)) {
				t.Errorf("retry %+v is not the same delivery again", attempts[1])
			}
			failed := slices.ContainsFunc(s.LogEvents(), func(e Event) bool {
				return e.EventType == "event_hook.delivery" && e.Outcome == "FAILURE" && e.Target[0].ID == id
			})
			if failed == c.delivered {
				t.Errorf("event_hook.delivery failure logged: %v, delivered %v", failed, c.delivered)
			}
			recv.mu.Lock()
			defer recv.mu.Unlock()
			if recv.accepts[0] != "application/json application/json" {
				t.Errorf("Accept and Content-Type: %q", recv.accepts[0])
			}
		})
	}
}

func TestHookTimeoutIsRetriedOnce(t *testing.T) {
	s, _ := startFake(t, Options{Hooks: HookDelivery{Timeout: 50 * time.Millisecond}})
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never answers in time
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hook.Close()
	defer close(release)
	s.AddEventHook(hook.URL, "", "user.lifecycle.create")
	s.AddUser(User{Login: "a@x.com"})
	flush(t, s)
	attempts := s.HookAttempts()
	if len(attempts) != 2 || !errors.Is(attempts[0].Err, context.DeadlineExceeded) || attempts[0].Status != 0 {
		t.Fatalf("attempts %+v, want a timeout and one retry", attempts)
	}
	if DefaultHookTimeout != 3*time.Second {
		t.Errorf("default timeout %v; Okta's is three seconds", DefaultHookTimeout)
	}
}

func TestHooksOnlyTakeEligibleEventTypes(t *testing.T) {
	s, _ := startFake(t, Options{})
	defer func() {
		if recover() == nil {
			t.Error("a hook subscribed to user.account.expire_password, which Okta's catalog does not allow")
		}
	}()
	s.AddEventHook("http://127.0.0.1:1/", "", "user.account.expire_password")
}

func TestLifecycleEventsReachHooksUnderOktasNames(t *testing.T) {
	s, _ := startFake(t, Options{Hooks: HookDelivery{InOrder: true, MaxBatch: 1}})
	recv := &hookReceiver{}
	hook := httptest.NewServer(recv)
	defer hook.Close()
	id := s.AddUser(User{Login: "a@x.com"})
	s.AddEventHook(hook.URL, "")
	for _, op := range []string{OpLockOut, OpUnlock, OpExpirePassword, OpSetPassword, OpResetPassword, OpReactivate, OpSetPassword, OpSuspend, OpUnsuspend, OpDeactivate} {
		if err := s.Lifecycle(id, op); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	flush(t, s)
	var got []string
	for _, e := range recv.events() {
		got = append(got, e.EventType)
	}
	want := []string{ // expire_password is logged but not hook-eligible
		"user.account.lock", "user.account.unlock_by_admin", "user.account.update_password",
		"user.account.reset_password", "user.lifecycle.reactivate", "user.account.update_password",
		"user.lifecycle.suspend", "user.lifecycle.unsuspend", "user.lifecycle.deactivate",
	}
	if !slices.Equal(got, want) {
		t.Errorf("hooks got %v, want %v", got, want)
	}
	if !slices.ContainsFunc(s.LogEvents(), func(e Event) bool { return e.EventType == "user.account.expire_password" }) {
		t.Error("expire_password is not in the System Log")
	}
}
