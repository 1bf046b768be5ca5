package grants

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	slackapp "github.com/accessportal/portal/sync/slack"
)

// Kinds of notification.
const (
	// NotifyRequestPending goes to the approvers of a new request.
	NotifyRequestPending = "request.pending"
	// NotifyRequestDecided goes to the requester when a request is
	// approved, denied or expires undecided.
	NotifyRequestDecided = "request.decided"
	// NotifyGrantExpiring goes to the grantee ExpiryReminderLead before a
	// grant ends.
	NotifyGrantExpiring = "grant.expiring"
	// NotifyGrantRevoked goes to the grantee when someone else revokes
	// their grant.
	NotifyGrantRevoked = "grant.revoked"
	// NotifyRequestCancelled, NotifyGrantApplied and NotifyGrantEnded are
	// delivered through the Slack app only: a request withdrawn (its
	// messages are updated), a grant confirmed in the tailnet, a grant's
	// removal confirmed.
	NotifyRequestCancelled = "request.cancelled"
	NotifyGrantApplied     = "grant.applied"
	NotifyGrantEnded       = "grant.ended"
	// NotifySyncRefused goes to the portal admins when the tailnet refuses
	// a managed group's change (the others were applied).
	NotifySyncRefused = "sync.refused"
)

// ExpiryReminderLead is how long before a grant's end its grantee is
// reminded.
const ExpiryReminderLead = 10 * time.Minute

// Delivery states of a notification.
const (
	DeliveryPending = "pending" // not delivered yet; retried until MaxAttempts
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"  // gave up after MaxAttempts
	DeliverySkipped = "skipped" // no webhook configured, or no longer relevant
)

// Notification is one outgoing message in the outbox. It is written in the
// transaction of the change it announces and delivered after commit.
type Notification struct {
	ID            int64 `gorm:"primaryKey"`
	Kind          string
	Recipients    string // JSON array of emails
	Details       string // JSON object
	GrantID       *int64
	Status        string
	Attempts      int
	CreatedAt     time.Time
	NextAttemptAt time.Time
	LastError     string
	LastErrorAt   *time.Time
	SentAt        *time.Time
}

// enqueue writes a notification to the outbox inside tx, due at due.
func enqueue(tx *gorm.DB, kind string, to []string, grantID *int64, details map[string]any, due, now time.Time) error {
	if to == nil {
		to = []string{}
	}
	rb, err := json.Marshal(to)
	if err != nil {
		return err
	}
	db, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("encoding notification: %w", err)
	}
	n := Notification{
		Kind: kind, Recipients: string(rb), Details: string(db), GrantID: grantID, Status: DeliveryPending,
		CreatedAt: dbTime(now), NextAttemptAt: dbTime(due),
	}
	if err := tx.Create(&n).Error; err != nil {
		return fmt.Errorf("queueing notification: %w", err)
	}
	return nil
}

// notifyApprovers queues the "needs your decision" message for a new
// request, addressed to the ACTIVE members of its approver groups other
// than the requester.
func notifyApprovers(ctx context.Context, tx *gorm.DB, cat *Catalog, res Resource, req *Request, now time.Time) error {
	groups := cat.approverGroups(res)
	to, err := presentMembers(ctx, tx, groups)
	if err != nil {
		return fmt.Errorf("reading approvers: %w", err)
	}
	to = slices.DeleteFunc(to, func(e string) bool { return e == req.Requester })
	return enqueue(tx, NotifyRequestPending, to, nil, map[string]any{
		"request": req.ID, "resource": req.Resource, "requester": req.Requester,
		"duration": formatDuration(req.Duration()), "reason": req.Reason,
		"approvals": max(res.Approvals, 1), "approverGroups": groups,
	}, now, now)
}

// notifyDecision queues the message telling the requester how their request
// ended.
func notifyDecision(tx *gorm.DB, req *Request, status, by, comment string, g *Grant, now time.Time) error {
	details := map[string]any{
		"request": req.ID, "resource": req.Resource, "requester": req.Requester, "status": status,
		"by": by, "comment": comment, "duration": formatDuration(req.Duration()),
	}
	var grantID *int64
	if g != nil {
		grantID = &g.ID
		details["grant"], details["expiresAt"] = g.ID, g.ExpiresAt.UTC()
	}
	return enqueue(tx, NotifyRequestDecided, []string{req.Requester}, grantID, details, now, now)
}

// enqueueExpiryReminder queues the grantee's reminder, due
// ExpiryReminderLead before g ends; grants shorter than that get none. A
// reminder whose grant was extended, revoked or expired meanwhile is
// skipped at delivery.
func enqueueExpiryReminder(tx *gorm.DB, g *Grant, now time.Time) error {
	due := g.ExpiresAt.Add(-ExpiryReminderLead)
	if !due.After(now) {
		return nil
	}
	return enqueue(tx, NotifyGrantExpiring, []string{g.UserEmail}, &g.ID, map[string]any{
		"grant": g.ID, "resource": g.Resource, "user": g.UserEmail, "expiresAt": g.ExpiresAt.UTC(),
	}, due, now)
}

// NotifierOptions configure a Notifier.
type NotifierOptions struct {
	Store *Store
	// WebhookURL receives Slack-compatible incoming-webhook JSON
	// ({"text": …}). Empty turns notifications off: queued ones are marked
	// skipped.
	WebhookURL string
	// BaseURL is the portal's public URL, for links in messages.
	BaseURL string
	// HTTPClient posts to the webhook; a client with a 10s timeout when nil.
	HTTPClient *http.Client
	// Slack, when set, delivers through the Slack app instead of the
	// webhook (see notify_slack.go); SlackChannel is where new requests
	// are posted ("" sends each approver a direct message).
	Slack        *slackapp.Client
	SlackChannel string
	// Registry, when set, receives the Slack delivery metrics.
	Registry prometheus.Registerer
	// Clock returns the current time; time.Now when nil.
	Clock func() time.Time
	// After waits; time.After when nil (tests inject a fake clock's).
	After func(time.Duration) <-chan time.Time
	// MaxAttempts is how many times a notification is tried before it is
	// marked failed (default 12: about eight hours of retries).
	MaxAttempts int
	// Backoff is the wait before retry number attempt (1-based); default
	// 30s doubling up to an hour.
	Backoff func(attempt int) time.Duration
	// MaxSleep bounds how long Run waits without a wake, to pick up
	// notifications queued on other replicas (default 30s).
	MaxSleep time.Duration
}

// Notifier delivers the outbox to the webhook: after commit, in the
// background, retried with backoff, never blocking the API.
type Notifier struct {
	o             NotifierOptions
	wake          chan struct{}
	slackMessages *prometheus.CounterVec
}

// NewNotifier builds a notifier; call Run to start delivering.
func NewNotifier(o NotifierOptions) *Notifier {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 12
	}
	if o.Backoff == nil {
		o.Backoff = func(attempt int) time.Duration {
			return min(30*time.Second<<min(attempt-1, 10), time.Hour)
		}
	}
	if o.MaxSleep <= 0 {
		o.MaxSleep = 30 * time.Second
	}
	return &Notifier{o: o, wake: make(chan struct{}, 1), slackMessages: newSlackMetrics(o.Registry)}
}

// Wake asks for a delivery pass now (something was queued). It never blocks.
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, sleeping until the next notification is due
// or a wake.
func (n *Notifier) Run(ctx context.Context) {
	for {
		next, err := n.Deliver(ctx)
		if ctx.Err() != nil {
			return
		}
		sleep := n.o.MaxSleep
		if err != nil {
			slog.Warn("delivering notifications", "err", err)
		} else if !next.IsZero() {
			sleep = min(max(next.Sub(n.o.Clock()), 0), n.o.MaxSleep)
		}
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		case <-n.o.After(sleep):
		}
	}
}

// Deliver makes one pass over the due notifications, oldest first, and
// returns when the next pending one is due (zero when none is).
func (n *Notifier) Deliver(ctx context.Context) (time.Time, error) {
	db := n.o.Store.db.WithContext(ctx)
	for {
		now := n.o.Clock()
		var due []Notification
		err := db.Where("status = ? AND next_attempt_at <= ?", DeliveryPending, dbTime(now)).
			Order("next_attempt_at, id").Limit(50).Find(&due).Error
		if err != nil {
			return time.Time{}, fmt.Errorf("reading the notification outbox: %w", err)
		}
		for i := range due {
			if err := n.deliverOne(ctx, &due[i]); err != nil {
				return time.Time{}, err
			}
		}
		if len(due) < 50 {
			break
		}
	}
	var next Notification
	err := db.Where("status = ?", DeliveryPending).Order("next_attempt_at").Limit(1).Find(&next).Error
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the notification outbox: %w", err)
	}
	if next.ID == 0 {
		return time.Time{}, nil
	}
	return next.NextAttemptAt, nil
}

// deliverOne posts one notification and records the outcome. Only database
// errors are returned; a failed post is recorded and retried later.
func (n *Notifier) deliverOne(ctx context.Context, note *Notification) error {
	db := n.o.Store.db.WithContext(ctx)
	now := n.o.Clock()
	skip := func(why string) error {
		return db.Model(&Notification{}).Where("id = ?", note.ID).
			Updates(map[string]any{"status": DeliverySkipped, "last_error": why}).Error
	}
	if n.o.Slack == nil && n.o.WebhookURL == "" {
		return skip("no webhook configured (PORTAL_NOTIFY_WEBHOOK)")
	}
	if n.o.Slack == nil && slackOnly[note.Kind] {
		return skip("announced through the Slack app only")
	}
	var details map[string]any
	if err := json.Unmarshal([]byte(note.Details), &details); err != nil {
		return skip("undecodable details: " + err.Error())
	}
	if note.Kind == NotifyGrantExpiring {
		stale, err := n.staleReminder(ctx, note, details)
		if err != nil {
			return err
		}
		if stale {
			return skip("the grant was extended or ended since the reminder was queued")
		}
	}
	var to []string
	json.Unmarshal([]byte(note.Recipients), &to)
	var postErr error
	if n.o.Slack != nil {
		why, err := n.sendSlack(ctx, note, to, details)
		n.countSlack(note.Kind, err)
		if why != "" && err == nil {
			return skip(why)
		}
		postErr = err
	} else {
		postErr = n.post(ctx, n.text(note.Kind, to, details))
	}
	if postErr == nil {
		t := dbTime(now)
		return db.Model(&Notification{}).Where("id = ?", note.ID).
			Updates(map[string]any{"status": DeliverySent, "sent_at": t, "attempts": note.Attempts + 1}).Error
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	attempts := note.Attempts + 1
	update := map[string]any{"attempts": attempts, "last_error": postErr.Error(), "last_error_at": dbTime(now)}
	if attempts >= n.o.MaxAttempts {
		update["status"] = DeliveryFailed
		slog.Error("notification failed for good", "id", note.ID, "kind", note.Kind, "attempts", attempts, "err", postErr)
	} else {
		wait := n.o.Backoff(attempts)
		if d, limited := slackapp.RetryAfter(postErr); limited {
			wait = max(d, time.Second) // Slack's Retry-After on 429
		}
		update["next_attempt_at"] = dbTime(now.Add(wait))
		slog.Warn("notification failed; will retry", "id", note.ID, "kind", note.Kind, "attempts", attempts, "err", postErr)
	}
	return db.Model(&Notification{}).Where("id = ?", note.ID).Updates(update).Error
}

// staleReminder reports whether an expiry reminder no longer applies: its
// grant is not active any more or now ends at another time.
func (n *Notifier) staleReminder(ctx context.Context, note *Notification, details map[string]any) (bool, error) {
	if note.GrantID == nil {
		return true, nil
	}
	var g Grant
	err := n.o.Store.db.WithContext(ctx).Where("id = ?", *note.GrantID).Limit(1).Find(&g).Error
	if err != nil {
		return false, fmt.Errorf("reading grant %d: %w", *note.GrantID, err)
	}
	want, _ := details["expiresAt"].(string)
	at, perr := time.Parse(time.RFC3339Nano, want)
	return g.ID == 0 || g.Status != GrantActive || perr != nil || !g.ExpiresAt.Equal(at), nil
}

// post sends one Slack-compatible message.
func (n *Notifier) post(ctx context.Context, text string) error {
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return fmt.Errorf("encoding webhook message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.o.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := n.o.HTTPClient.Do(req)
	if err != nil {
		// Leave the URL out: a webhook URL is a secret, and this error is
		// logged and shown on the dashboard.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("posting to the webhook: %w", err)
	}
	defer res.Body.Close()
	msg, err := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s: %s", res.Status, strings.TrimSpace(string(msg)))
	}
	if err != nil {
		return fmt.Errorf("reading the webhook's answer: %w", err)
	}
	return nil
}

// text renders a notification as one message.
func (n *Notifier) text(kind string, to []string, d map[string]any) string {
	str := func(k string) string { s, _ := d[k].(string); return s }
	num := func(k string) string {
		if f, ok := d[k].(float64); ok {
			return fmt.Sprintf("%d", int64(f))
		}
		return ""
	}
	when := func(k string) string {
		t, err := time.Parse(time.RFC3339Nano, str(k))
		if err != nil {
			return str(k)
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	link := func(path string) string {
		if n.o.BaseURL == "" {
			return ""
		}
		return " " + strings.TrimRight(n.o.BaseURL, "/") + path
	}
	var b strings.Builder
	if len(to) > 0 {
		b.WriteString(strings.Join(to, ", ") + ": ")
	}
	switch kind {
	case NotifyRequestPending:
		fmt.Fprintf(&b, "%s requests %s for %s", str("requester"), str("resource"), str("duration"))
		if r := str("reason"); r != "" {
			fmt.Fprintf(&b, " (reason: %s)", r)
		}
		fmt.Fprintf(&b, ". Request %s needs %s approval(s).%s", num("request"), num("approvals"), link("/requests/"+num("request")))
		if len(to) == 0 {
			b.WriteString(" No ACTIVE approver is in the approver groups.")
		}
	case NotifyRequestDecided:
		switch str("status") {
		case RequestApproved:
			fmt.Fprintf(&b, "your request %s for %s was approved by %s; access until %s.", num("request"), str("resource"), str("by"), when("expiresAt"))
		case RequestDenied:
			fmt.Fprintf(&b, "your request %s for %s was denied by %s.", num("request"), str("resource"), str("by"))
		case RequestExpired:
			fmt.Fprintf(&b, "your request %s for %s expired: nobody decided it in time.", num("request"), str("resource"))
		default:
			fmt.Fprintf(&b, "your request %s for %s is %s.", num("request"), str("resource"), str("status"))
		}
		if c := str("comment"); c != "" {
			fmt.Fprintf(&b, " Comment: %s", c)
		}
		b.WriteString(link("/requests/" + num("request")))
	case NotifyGrantExpiring:
		fmt.Fprintf(&b, "your access to %s ends at %s (in %s). Need longer? Extend grant %s on its page or with `access extend %s --for 1h --reason …`.%s",
			str("resource"), when("expiresAt"), formatDuration(ExpiryReminderLead), num("grant"), num("grant"), link("/grants/"+num("grant")+"#extend"))
	case NotifySyncRefused:
		fmt.Fprintf(&b, "the tailnet refused the portal's change of %s: %s. Every other change was applied; the portal retries at each pass.%s",
			str("group"), str("message"), link("/admin"))
	case NotifyGrantRevoked:
		fmt.Fprintf(&b, "your access to %s (grant %s) was revoked by %s", str("resource"), num("grant"), str("by"))
		if r := str("reason"); r != "" {
			fmt.Fprintf(&b, ": %s", r)
		}
		b.WriteString(".")
	default:
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "%s:", kind)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%v", k, d[k])
		}
	}
	return b.String()
}

// NotificationStatus is the health of webhook delivery, for the dashboard.
type NotificationStatus struct {
	// Pending are queued and not yet delivered, Retrying those of them
	// that failed at least once.
	Pending  int64 `json:"pending"`
	Retrying int64 `json:"retrying"`
	// Failed gave up after the last attempt.
	Failed int64 `json:"failed"`
	// LastError is the most recent delivery failure, and when it happened.
	LastError   string     `json:"lastError"`
	LastErrorAt *time.Time `json:"lastErrorAt"`
}

// NotificationHealth counts pending, retrying and failed deliveries and
// returns the most recent delivery error.
func (s *Store) NotificationHealth(ctx context.Context) (NotificationStatus, error) {
	db := s.db.DB
	var st NotificationStatus
	db = db.WithContext(ctx)
	if err := db.Model(&Notification{}).Where("status = ?", DeliveryPending).Count(&st.Pending).Error; err != nil {
		return st, fmt.Errorf("counting notifications: %w", err)
	}
	if err := db.Model(&Notification{}).Where("status = ? AND attempts > 0", DeliveryPending).Count(&st.Retrying).Error; err != nil {
		return st, fmt.Errorf("counting notifications: %w", err)
	}
	if err := db.Model(&Notification{}).Where("status = ?", DeliveryFailed).Count(&st.Failed).Error; err != nil {
		return st, fmt.Errorf("counting notifications: %w", err)
	}
	var last Notification
	err := db.Where("last_error_at IS NOT NULL").Order("last_error_at DESC, id DESC").Limit(1).Find(&last).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return st, fmt.Errorf("reading notifications: %w", err)
	}
	if last.ID != 0 {
		st.LastError, st.LastErrorAt = last.LastError, utcPtr(last.LastErrorAt)
	}
	return st, nil
}
