package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessportal/portal/sync/slackfake"
	"github.com/slack-go/slack"
)

const (
	botToken      = "xoxb-portal-test"
	signingSecret = "e2e-signing-secret"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type fakeSlack struct {
	*slackfake.Server
	url          string
	client       *Client
	clock        *clock
	alice, bob   string
	carol        string
	accessRoomID string
}

func startFake(t *testing.T, scopes []string) *fakeSlack {
	t.Helper()
	c := &clock{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	s := slackfake.New(slackfake.Options{BotToken: botToken, SigningSecret: signingSecret, Clock: c.Now, Scopes: scopes})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.SetBaseURL(srv.URL)
	f := &fakeSlack{Server: s, url: srv.URL, clock: c, client: NewClient(botToken, WithAPIURL(srv.URL+"/api"))}
	f.alice = s.AddUser(slackfake.User{Name: "alice", Email: "alice@example.com"})
	f.bob = s.AddUser(slackfake.User{Name: "bob", Email: "bob@example.com"})
	f.carol = s.AddUser(slackfake.User{Name: "carol", Email: "carol@example.com"})
	f.accessRoomID = s.ChannelID("access-requests")
	return f
}

func TestClientAgainstFake(t *testing.T) {
	f := startFake(t, nil)
	ctx := context.Background()
	if email, err := f.client.UserEmail(ctx, f.alice); err != nil || email != "alice@example.com" {
		t.Errorf("UserEmail = %q, %v", email, err)
	}
	if id, err := f.client.UserIDByEmail(ctx, "BOB@example.com"); err != nil || id != f.bob {
		t.Errorf("UserIDByEmail = %q, %v", id, err)
	}
	if _, err := f.client.UserIDByEmail(ctx, "nobody@example.com"); !errors.Is(err, ErrNoSlackUser) {
		t.Errorf("unknown email: %v", err)
	}
	f.SetDeleted(f.carol, true)
	if _, err := f.client.UserEmail(ctx, f.carol); !errors.Is(err, ErrNoEmail) {
		t.Errorf("deactivated Slack user: %v", err)
	}
	if _, err := f.client.UserEmail(ctx, f.BotUserID()); !errors.Is(err, ErrNoEmail) {
		t.Errorf("the bot: %v", err)
	}

	r := sampleRequest()
	ch, ts, err := f.client.Post(ctx, "access-requests-id-unknown", RequestMessage(r, nil))
	if ErrorCode(err) != "channel_not_found" {
		t.Errorf("unknown channel: %q %q %v", ch, ts, err)
	}
	ch, ts, err = f.client.Post(ctx, f.accessRoomID, RequestMessage(r, []string{f.bob}))
	if err != nil {
		t.Fatal(err)
	}
	r.Status, r.DecidedBySlackID, r.DecidedAt = StatusApproved, f.bob, f.clock.Now()
	if err := f.client.Update(ctx, ch, ts, DecisionMessage(r)); err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages(ch)
	if len(msgs) != 1 || strings.Contains(string(msgs[0].Blocks), `"approve"`) || !strings.Contains(string(msgs[0].Blocks), "Approved by \\u003c@"+f.bob) && !strings.Contains(string(msgs[0].Blocks), "Approved by <@"+f.bob) {
		t.Errorf("updated message: %s", msgs[0].Blocks)
	}

	dm, _, err := f.client.PostDM(ctx, f.alice, DecidedMessage(r))
	if err != nil || !strings.HasPrefix(dm, "D") {
		t.Fatalf("PostDM = %q, %v", dm, err)
	}
	if got := f.DirectMessages(f.alice); len(got) != 1 || !strings.Contains(got[0].Text, "Approved") {
		t.Errorf("alice's DMs: %+v", got)
	}
	if _, _, err := f.client.PostDM(ctx, f.alice, ExpiryWarningMessage(GrantInfo{ID: 3, Resource: "prod-db", ExpiresAt: f.clock.Now()})); err != nil {
		t.Errorf("expiry warning rejected: %v", err)
	}

	f.RateLimitNext("chat.postMessage", 30*time.Second)
	_, _, err = f.client.Post(ctx, f.accessRoomID, RequestMessage(r, nil))
	if wait, ok := RetryAfter(err); !ok || wait != 30*time.Second {
		t.Errorf("429: RetryAfter = %v %v (%v)", wait, ok, err)
	}
	if _, ok := RetryAfter(errors.New("other")); ok {
		t.Error("RetryAfter of another error")
	}
}

func TestClientWithoutScopes(t *testing.T) {
	f := startFake(t, []string{"commands", "users:read"})
	_, _, err := f.client.Post(context.Background(), f.accessRoomID, Message{Text: "x"})
	if ErrorCode(err) != "missing_scope" {
		t.Errorf("post without chat:write: %v", err)
	}
	if _, err := f.client.UserEmail(context.Background(), f.alice); !errors.Is(err, ErrNoEmail) {
		t.Errorf("users.info without users:read.email shows no email: %v", err)
	}
}

// miniPortal plays the application: it verifies, parses and answers the
// workspace's requests with this package, the way web/ will.
type miniPortal struct {
	t        *testing.T
	verifier Verifier
	client   *Client
	f        *fakeSlack
	choices  []ResourceChoice

	mu       sync.Mutex
	requests map[int64]*RequestInfo
	where    map[int64][2]string
	handled  int
}

func (p *miniPortal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := p.verifier.Verify(r)
	if err != nil {
		http.Error(w, "not verified", http.StatusUnauthorized)
		return
	}
	p.mu.Lock()
	p.handled++
	p.mu.Unlock()
	ctx := r.Context()
	if r.URL.Path == "/slack/commands" {
		p.command(ctx, w, body)
		return
	}
	in, err := ParseInteraction(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.interaction(ctx, w, in)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (p *miniPortal) command(ctx context.Context, w http.ResponseWriter, body []byte) {
	cmd, err := ParseCommand(body)
	var usage *UsageError
	switch {
	case errors.As(err, &usage):
		writeJSON(w, EphemeralText(usage.Error()))
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch cmd.Kind {
	case CommandModal:
		if _, err := p.client.OpenView(ctx, cmd.TriggerID, RequestModal(p.choices)); err != nil {
			p.t.Errorf("opening the request modal: %v", err)
		}
	case CommandRequest:
		email, err := p.client.UserEmail(ctx, cmd.UserID)
		if err != nil {
			writeJSON(w, EphemeralText("Your Slack account has no email the portal knows."))
			return
		}
		r := p.file(ctx, email, cmd.UserID, cmd.Resource, cmd.Duration, cmd.Reason)
		writeJSON(w, EphemeralText("Request "+itoa(r.ID)+" for "+r.Resource+" is pending."))
	}
}

func itoa(id int64) string { b, _ := json.Marshal(id); return string(b) }

func (p *miniPortal) file(ctx context.Context, email, slackID, resource string, d time.Duration, reason string) RequestInfo {
	p.mu.Lock()
	r := &RequestInfo{ID: int64(len(p.requests) + 7), Resource: resource, Requester: email, RequesterSlackID: slackID,
		Duration: d, Reason: reason, CreatedAt: p.f.clock.Now(), Status: StatusPending}
	p.requests[r.ID] = r
	p.mu.Unlock()
	approver, err := p.client.UserIDByEmail(ctx, "bob@example.com")
	if err != nil {
		p.t.Errorf("finding the approver: %v", err)
	}
	ch, ts, err := p.client.Post(ctx, p.f.accessRoomID, RequestMessage(*r, []string{approver}))
	if err != nil {
		p.t.Errorf("posting the request: %v", err)
	}
	p.mu.Lock()
	p.where[r.ID] = [2]string{ch, ts}
	p.mu.Unlock()
	return *r
}

func (p *miniPortal) interaction(ctx context.Context, w http.ResponseWriter, in Interaction) {
	p.mu.Lock()
	r := p.requests[in.RequestID]
	p.mu.Unlock()
	switch in.Kind {
	case ClickApprove, ClickDeny:
		if r == nil {
			p.client.Respond(ctx, in.ResponseURL, "no request "+itoa(in.RequestID))
			return
		}
		view := ApproveModal(*r, 4*time.Hour)
		if in.Kind == ClickDeny {
			view = DenyModal(*r)
		}
		if _, err := p.client.OpenView(ctx, in.TriggerID, view); err != nil {
			p.t.Errorf("opening the decision modal: %v", err)
		}
	case SubmitApprove, SubmitDeny:
		email, _ := p.client.UserEmail(ctx, in.UserID)
		if email == r.Requester {
			writeJSON(w, NewViewErrors(map[string]string{InputComment: "you cannot approve your own request"}))
			return
		}
		p.decide(ctx, r, in, email)
	case SubmitRequest:
		if errs := CheckRequestSubmission(in, p.choices); errs != nil {
			writeJSON(w, NewViewErrors(errs))
			return
		}
		email, _ := p.client.UserEmail(ctx, in.UserID)
		p.file(ctx, email, in.UserID, in.Resource, in.Duration, in.Reason)
	}
}

func (p *miniPortal) decide(ctx context.Context, r *RequestInfo, in Interaction, email string) {
	p.mu.Lock()
	r.Status, r.DecidedBy, r.DecidedBySlackID, r.DecidedAt, r.Comment = StatusApproved, email, in.UserID, p.f.clock.Now(), in.Comment
	if in.Kind == SubmitDeny {
		r.Status = StatusDenied
	}
	r.GrantedDuration = in.Duration
	decided, where := *r, p.where[r.ID]
	p.mu.Unlock()
	if err := p.client.Update(ctx, where[0], where[1], DecisionMessage(decided)); err != nil {
		p.t.Errorf("updating the request message: %v", err)
	}
	if _, _, err := p.client.PostDM(ctx, decided.RequesterSlackID, DecidedMessage(decided)); err != nil {
		p.t.Errorf("telling the requester: %v", err)
	}
}

func startPortal(t *testing.T, f *fakeSlack) *miniPortal {
	p := &miniPortal{
		t: t, f: f, verifier: Verifier{Secret: signingSecret, Clock: f.clock.Now}, client: f.client,
		requests: map[int64]*RequestInfo{}, where: map[int64][2]string{},
		choices: []ResourceChoice{
			{Name: "prod-db", MaxDuration: 4 * time.Hour, DefaultDuration: time.Hour, RequireReason: true},
			{Name: "staging", MaxDuration: 24 * time.Hour, DefaultDuration: 2 * time.Hour},
		},
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	f.SetPortal(srv.URL+"/slack/commands", srv.URL+"/slack/interactions")
	return p
}

// TestRequestApproveFlow goes through the whole flow against the simulated
// workspace: /access files a request, the approver's message has working
// buttons, the approve modal takes a shorter duration, and the message and
// the requester are told.
func TestRequestApproveFlow(t *testing.T) {
	f := startFake(t, nil)
	p := startPortal(t, f)
	ctx := context.Background()

	reply, err := f.SlashCommand(ctx, f.alice, "prod-db 2h investigating INC-42")
	if err != nil || reply.Ephemeral != "Request 7 for prod-db is pending." {
		t.Fatalf("slash command: %+v %v", reply, err)
	}
	msgs := f.Messages(f.accessRoomID)
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Blocks), "@"+f.bob) {
		t.Fatalf("request message: %+v", msgs)
	}
	ts := msgs[0].TS

	// The requester cannot approve their own request.
	if _, err := f.Click(ctx, f.alice, f.accessRoomID, ts, ActionApprove); err != nil {
		t.Fatal(err)
	}
	view, ok := f.OpenView(f.alice)
	if !ok || view.CallbackID != CallbackApprove || view.PrivateMetadata != "7" {
		t.Fatalf("approve modal for alice: %+v %v", view, ok)
	}
	reply, err = f.Submit(ctx, f.alice, view.ID, map[string]string{InputDuration: "30m"})
	if err != nil || reply.ViewErrors[InputComment] == "" {
		t.Fatalf("self-approval: %+v %v", reply, err)
	}
	if p.requests[7].Status != StatusPending {
		t.Fatal("a self-approval changed the request")
	}
	f.CloseView(f.alice, view.ID)

	if _, err := f.Click(ctx, f.bob, f.accessRoomID, ts, ActionApprove); err != nil {
		t.Fatal(err)
	}
	view, _ = f.OpenView(f.bob)
	if _, err := f.Submit(ctx, f.bob, view.ID, map[string]string{InputDuration: "30m", InputComment: "keep it short"}); err != nil {
		t.Fatal(err)
	}
	if _, open := f.OpenView(f.bob); open {
		t.Error("the approve modal stayed open")
	}
	if r := p.requests[7]; r.Status != StatusApproved || r.GrantedDuration != 30*time.Minute || r.DecidedBySlackID != f.bob || r.Comment != "keep it short" {
		t.Errorf("request after approval: %+v", r)
	}
	msg := f.Messages(f.accessRoomID)[0]
	if msg.Edited.IsZero() || strings.Contains(string(msg.Blocks), `"action_id":"approve"`) {
		t.Errorf("the message was not replaced: %s", msg.Blocks)
	}
	if _, err := f.Click(ctx, f.bob, f.accessRoomID, ts, ActionApprove); !errors.Is(err, slackfake.ErrNoSuchButton) {
		t.Errorf("the Approve button survived the decision: %v", err)
	}
	if dms := f.DirectMessages(f.alice); len(dms) != 1 || !strings.Contains(dms[0].Text, "Approved by <@"+f.bob+"> for 30m") {
		t.Errorf("alice was told: %+v", dms)
	}
}

func TestRequestModalFlow(t *testing.T) {
	f := startFake(t, nil)
	p := startPortal(t, f)
	ctx := context.Background()
	if _, err := f.SlashCommand(ctx, f.alice, ""); err != nil {
		t.Fatal(err)
	}
	view, ok := f.OpenView(f.alice)
	if !ok || view.CallbackID != CallbackRequest {
		t.Fatalf("request modal: %+v %v", view, ok)
	}
	reply, err := f.Submit(ctx, f.alice, view.ID, map[string]string{InputResource: "prod-db", InputDuration: "8h"})
	if err != nil || reply.ViewErrors[InputDuration] == "" || reply.ViewErrors[InputReason] == "" {
		t.Fatalf("over the maximum and no reason: %+v %v", reply, err)
	}
	if len(p.requests) != 0 {
		t.Fatal("a refused submission filed a request")
	}
	if _, err := f.Submit(ctx, f.alice, view.ID, map[string]string{InputResource: "prod-db", InputDuration: "2h", InputReason: "INC-42"}); err != nil {
		t.Fatal(err)
	}
	if r := p.requests[7]; r == nil || r.Duration != 2*time.Hour || r.Reason != "INC-42" || r.Requester != "alice@example.com" {
		t.Errorf("filed %+v", r)
	}
}

func TestUnverifiedRequestsChangeNothing(t *testing.T) {
	f := startFake(t, nil)
	p := startPortal(t, f)
	ctx := context.Background()
	p.verifier.Clock = func() time.Time { return f.clock.Now().Add(6 * time.Minute) }
	reply, err := f.SlashCommand(ctx, f.alice, "prod-db 1h old")
	if err != nil || reply.Status != http.StatusUnauthorized {
		t.Errorf("old timestamp: %+v %v", reply, err)
	}
	p.verifier = Verifier{Secret: "another secret", Clock: f.clock.Now}
	if reply, _ := f.SlashCommand(ctx, f.alice, "prod-db 1h forged"); reply.Status != http.StatusUnauthorized {
		t.Errorf("other secret: %+v", reply)
	}
	if p.handled != 0 || len(f.Messages(f.accessRoomID)) != 0 {
		t.Errorf("unverified requests were acted on: %d handled", p.handled)
	}
}

func TestUsageErrorAnsweredEphemerally(t *testing.T) {
	f := startFake(t, nil)
	startPortal(t, f)
	reply, err := f.SlashCommand(context.Background(), f.alice, "prod-db soon")
	if err != nil || !strings.HasPrefix(reply.Ephemeral, `invalid duration "soon"`) {
		t.Errorf("usage error: %+v %v", reply, err)
	}
}

// TestEverySurfaceAccepted posts every message and opens every modal this
// package builds against the simulated workspace's Block Kit checks.
func TestEverySurfaceAccepted(t *testing.T) {
	f := startFake(t, nil)
	ctx := context.Background()
	var triggers []string
	var mu sync.Mutex
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := Verifier{Secret: signingSecret, Clock: f.clock.Now}.Verify(r)
		if err != nil {
			http.Error(w, err.Error(), 401)
			return
		}
		cmd, _ := ParseCommand(body)
		mu.Lock()
		triggers = append(triggers, cmd.TriggerID)
		mu.Unlock()
	}))
	defer portal.Close()
	f.SetPortal(portal.URL, portal.URL)

	r := sampleRequest()
	g := GrantInfo{ID: 3, RequestID: 7, Resource: "prod-db", ExpiresAt: f.clock.Now().Add(time.Hour), Status: "revoked", RevokedBy: "admin@example.com"}
	res := ResourceChoice{Name: "prod-db", Description: "Production database", MaxDuration: 8 * time.Hour, DefaultDuration: time.Hour, RequireReason: true}
	modals := map[string]slack.ModalViewRequest{
		"approve": ApproveModal(r, 8*time.Hour), "deny": DenyModal(r), "extend": ExtendModal(g, res),
		"request": RequestModal([]ResourceChoice{res, {Name: "staging", MaxDuration: 168 * time.Hour}}),
	}
	for name, view := range modals {
		if _, err := f.SlashCommand(ctx, f.alice, ""); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		trigger := triggers[len(triggers)-1]
		mu.Unlock()
		if _, err := f.client.OpenView(ctx, trigger, view); err != nil {
			t.Errorf("%s modal refused: %v", name, err)
		}
	}
	decided := r
	decided.Status, decided.DecidedBy, decided.DecidedAt = StatusDenied, "bob@example.com", f.clock.Now()
	messages := map[string]Message{
		"request": RequestMessage(r, []string{f.bob, f.carol}), "decision": DecisionMessage(decided), "decided": DecidedMessage(decided),
		"applied": AppliedMessage(g), "warning": ExpiryWarningMessage(g), "ended": EndedMessage(g),
	}
	for name, m := range messages {
		if _, _, err := f.client.PostDM(ctx, f.bob, m); err != nil {
			t.Errorf("%s message refused: %v", name, err)
		}
	}
	if n := len(f.DirectMessages(f.bob)); n != len(messages) {
		t.Errorf("%d DMs stored, want %d", n, len(messages))
	}
}
