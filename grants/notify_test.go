package grants_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// webhook is a Slack-compatible incoming webhook that fails the first
// failures posts with 500.
type webhook struct {
	*httptest.Server
	mu       gosync.Mutex
	failures int
	posts    int
	texts    []string
	got      chan string // each delivered text, when there is room
}

func newWebhook(t *testing.T, failures int) *webhook {
	w := &webhook{failures: failures, got: make(chan string, 100)}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.posts++
		var body map[string]string
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &body) != nil || len(body) != 1 || body["text"] == "" {
			http.Error(rw, "invalid_payload", http.StatusBadRequest)
			return
		}
		if w.failures > 0 {
			w.failures--
			http.Error(rw, "slack is having a moment", http.StatusInternalServerError)
			return
		}
		w.texts = append(w.texts, body["text"])
		select {
		case w.got <- body["text"]:
		default:
		}
		io.WriteString(rw, "ok")
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhook) received() (posts int, texts []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.posts, append([]string(nil), w.texts...)
}

func newNotifier(db *database.DB, url string, clock *fakeClock, maxAttempts int) *grants.Notifier {
	return grants.NewNotifier(grants.NotifierOptions{
		Store: grants.NewStore(db), WebhookURL: url, BaseURL: "https://access.example.com", Clock: clock.Now, After: clock.After,
		MaxAttempts: maxAttempts,
	})
}

func TestNotifierRetriesWithBackoffThenDelivers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		hook := newWebhook(t, 2)
		clock := newFakeClock(t0)
		n := newNotifier(db, hook.URL, clock, 0)
		r := j.request(t, "bob", "prod-db", 2*time.Hour, t0)

		next, err := n.Deliver(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !next.Equal(t0.Add(30 * time.Second)) {
			t.Errorf("after a failure the next try is at %s, want +30s", next)
		}
		st, err := grants.NewStore(db).NotificationHealth(t.Context())
		if err != nil || st.Pending != 1 || st.Retrying != 1 || st.Failed != 0 || !strings.Contains(st.LastError, "500") ||
			!strings.Contains(st.LastError, "slack is having a moment") || st.LastErrorAt == nil || !st.LastErrorAt.Equal(t0) {
			t.Fatalf("health after a failure = %+v, %v", st, err)
		}
		// Not due yet: nothing is posted.
		clock.Advance(29 * time.Second)
		n.Deliver(t.Context())
		if posts, _ := hook.received(); posts != 1 {
			t.Fatalf("%d posts before the backoff ended", posts)
		}
		clock.Advance(time.Second)
		if next, _ = n.Deliver(t.Context()); !next.Equal(t0.Add(90 * time.Second)) {
			t.Errorf("after the second failure the next try is at %s, want +90s (a doubled backoff)", next)
		}
		clock.Advance(time.Minute)
		if next, _ = n.Deliver(t.Context()); !next.IsZero() {
			t.Errorf("nothing should be pending, next = %s", next)
		}
		posts, texts := hook.received()
		if posts != 3 || len(texts) != 1 {
			t.Fatalf("posts %d, delivered %v", posts, texts)
		}
		want := "carol@example.com, sam@example.com: bob@example.com requests prod-db for 2h (reason: because). Request 1 needs 1 approval(s). https://access.example.com/requests/1"
		if texts[0] != want {
			t.Errorf("text = %q\nwant   %q", texts[0], want)
		}
		st, _ = grants.NewStore(db).NotificationHealth(t.Context())
		if st.Pending != 0 || st.Failed != 0 {
			t.Errorf("health after delivery = %+v", st)
		}
		var sent grants.Notification
		db.Take(&sent)
		if sent.Status != grants.DeliverySent || sent.Attempts != 3 || sent.SentAt == nil || !sent.SentAt.Equal(t0.Add(90*time.Second)) {
			t.Errorf("stored = %+v", sent)
		}

		// The decision and, ten minutes before the end, the reminder.
		j.approve(t, "carol", r.ID, clock.Now())
		n.Deliver(t.Context())
		if _, texts = hook.received(); len(texts) != 2 || !strings.HasPrefix(texts[1], "bob@example.com: your request 1 for prod-db was approved by carol@example.com; access until 2026-11-21 14:01:30 UTC.") {
			t.Errorf("decision text = %q", texts[len(texts)-1])
		}
		clock.Advance(110 * time.Minute)
		n.Deliver(t.Context())
		if _, texts = hook.received(); len(texts) != 3 || !strings.Contains(texts[2], "your access to prod-db ends at 2026-11-21 14:01:30 UTC (in 10m)") {
			t.Errorf("reminder = %q", texts[len(texts)-1])
		}
		// The reminder offers the extension: the grant's page and the CLI.
		if !strings.Contains(texts[2], "Need longer? Extend grant 1 on its page or with `access extend 1 --for 1h --reason …`.") ||
			!strings.HasSuffix(texts[2], "/grants/1#extend") {
			t.Errorf("reminder does not offer the extension: %q", texts[2])
		}
	})
}

func TestNotifierGivesUpAndSaysSo(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		hook := newWebhook(t, 100)
		clock := newFakeClock(t0)
		n := newNotifier(db, hook.URL, clock, 2)
		j.request(t, "bob", "prod-db", 0, t0)
		n.Deliver(t.Context())
		clock.Advance(time.Minute)
		if next, err := n.Deliver(t.Context()); err != nil || !next.IsZero() {
			t.Fatalf("after giving up: next %s, %v", next, err)
		}
		st, _ := grants.NewStore(db).NotificationHealth(t.Context())
		if st.Failed != 1 || st.Pending != 0 || !strings.Contains(st.LastError, "500") {
			t.Errorf("health = %+v", st)
		}
		// The request itself is untouched by the webhook's trouble.
		if r, err := grants.NewStore(db).GetRequest(t.Context(), 1); err != nil || r.Status != grants.RequestPending {
			t.Errorf("request = %+v, %v", r, err)
		}
	})
}

func TestNotifierWithoutWebhookSkips(t *testing.T) {
	db := dbtest.SQLite(t)
	j := newJIT(t, db)
	clock := newFakeClock(t0)
	n := newNotifier(db, "", clock, 0)
	j.request(t, "bob", "prod-db", 0, t0)
	if next, err := n.Deliver(t.Context()); err != nil || !next.IsZero() {
		t.Fatalf("Deliver = %s, %v", next, err)
	}
	var note grants.Notification
	db.Take(&note)
	if note.Status != grants.DeliverySkipped {
		t.Errorf("status %s, want skipped", note.Status)
	}
	if st, _ := grants.NewStore(db).NotificationHealth(t.Context()); st.Pending != 0 || st.LastError != "" {
		t.Errorf("health = %+v: skipping is not an error", st)
	}
}

func TestStaleRemindersAreSkipped(t *testing.T) {
	db := dbtest.SQLite(t)
	j := newJIT(t, db)
	hook := newWebhook(t, 0)
	clock := newFakeClock(t0)
	n := newNotifier(db, hook.URL, clock, 0)
	// Dave (on call) gets an hour, then extends it to two; then sam's grant
	// is revoked before its reminder.
	j.request(t, "dave", "prod-db", time.Hour, t0)
	j.request(t, "dave", "prod-db", 2*time.Hour, t0)
	sam, err := grants.NewStore(db).DirectGrant(t.Context(), j.cat, j.people["alice"], grants.DirectGrantInput{Resource: "staging", User: "sam@example.com", Duration: time.Hour, Reason: "r"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := grants.NewStore(db).RevokeGrant(t.Context(), j.cat, sam.ID, j.people["alice"], "done", t0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	n.Deliver(t.Context())
	_, texts := hook.received()
	var reminders []string
	for _, text := range texts {
		if strings.Contains(text, "ends at") {
			reminders = append(reminders, text)
		}
	}
	if len(reminders) != 1 || !strings.Contains(reminders[0], "dave@example.com: your access to prod-db ends at 2026-11-21 14:00:00 UTC") {
		t.Errorf("reminders = %q, want only the one for dave's extended end", reminders)
	}
	if len(texts) != 2 || !strings.Contains(texts[0], "sam@example.com: your access to staging (grant 2) was revoked by alice@example.com: done.") {
		t.Errorf("texts = %q", texts)
	}
	var skipped int64
	db.Model(&grants.Notification{}).Where("status = ?", grants.DeliverySkipped).Count(&skipped)
	if skipped != 2 {
		t.Errorf("%d skipped, want 2 (the stale reminders)", skipped)
	}
}

// TestNotifierRunDeliversWhenWoken runs the loop: a wake after a commit
// delivers at once, without waiting for the next poll.
func TestNotifierRunDeliversWhenWoken(t *testing.T) {
	db := dbtest.SQLite(t)
	j := newJIT(t, db)
	hook := newWebhook(t, 0)
	clock := newFakeClock(t0)
	n := newNotifier(db, hook.URL, clock, 0)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	defer func() { cancel(); <-done }()

	j.request(t, "bob", "prod-db", 0, t0)
	n.Wake()
	select {
	case text := <-hook.got:
		if !strings.Contains(text, "bob@example.com requests prod-db") {
			t.Errorf("delivered %q", text)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("not delivered after a wake")
	}
}
