package slackfake

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

const (
	testToken  = "xoxb-test-token"
	testSecret = "8f742231b10e8888abcd99yyyzzz85a5"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type workspace struct {
	*Server
	url   string
	api   *slack.Client
	alice string
	bob   string
}

func newWorkspace(t *testing.T, opts Options) *workspace {
	t.Helper()
	if opts.BotToken == "" {
		opts.BotToken = testToken
	}
	opts.SigningSecret = testSecret
	s := New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.SetBaseURL(srv.URL)
	w := &workspace{Server: s, url: srv.URL, api: slack.New(testToken, slack.OptionAPIURL(srv.URL+"/api/"))}
	w.alice = s.AddUser(User{Name: "alice", RealName: "Alice Example", Email: "alice@example.com"})
	w.bob = s.AddUser(User{Name: "bob", RealName: "Bob Example", Email: "bob@example.com"})
	return w
}

func apiError(t *testing.T, err error) slack.SlackErrorResponse {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a Web API error", err, err)
	}
	return se
}

func TestUsersThroughSlackGo(t *testing.T) {
	w := newWorkspace(t, Options{})
	u, err := w.api.GetUserInfo(w.alice)
	if err != nil {
		t.Fatal(err)
	}
	if u.Profile.Email != "alice@example.com" || u.Name != "alice" || u.Deleted {
		t.Errorf("users.info = %+v", u)
	}
	if _, err := w.api.GetUserInfo("U404"); apiError(t, err).Err != "user_not_found" {
		t.Errorf("unknown user: %v", err)
	}
	byEmail, err := w.api.GetUserByEmail("BOB@example.com")
	if err != nil || byEmail.ID != w.bob {
		t.Errorf("users.lookupByEmail = %v, %v; want %s", byEmail, err, w.bob)
	}
	if _, err := w.api.GetUserByEmail("carol@example.com"); apiError(t, err).Err != "users_not_found" {
		t.Errorf("unknown email: %v", err)
	}
	w.SetDeleted(w.bob, true)
	if u, _ := w.api.GetUserInfo(w.bob); !u.Deleted {
		t.Error("a deactivated member is not shown deleted")
	}
}

func TestEmailNeedsScope(t *testing.T) {
	w := newWorkspace(t, Options{Scopes: []string{"commands", "chat:write", "users:read"}})
	u, err := w.api.GetUserInfo(w.alice)
	if err != nil {
		t.Fatal(err)
	}
	if u.Profile.Email != "" {
		t.Errorf("email %q shown without users:read.email", u.Profile.Email)
	}
	_, err = w.api.GetUserByEmail("alice@example.com")
	se := apiError(t, err)
	if se.Err != "missing_scope" || se.Needed != "users:read.email" || !strings.Contains(se.Provided, "users:read") {
		t.Errorf("lookupByEmail without scope: %+v", se)
	}
}

func TestTokenChecked(t *testing.T) {
	w := newWorkspace(t, Options{})
	other := slack.New("xoxb-wrong", slack.OptionAPIURL(w.url+"/api/"))
	if _, err := other.GetUserInfo(w.alice); apiError(t, err).Err != "invalid_auth" {
		t.Errorf("wrong token: %v", err)
	}
	none := slack.New("", slack.OptionAPIURL(w.url+"/api/"))
	if _, err := none.AuthTest(); apiError(t, err).Err != "not_authed" {
		t.Errorf("no token: %v", err)
	}
	if resp, err := w.api.AuthTest(); err != nil || resp.UserID != w.BotUserID() || resp.TeamID != "T0PORTAL" {
		t.Errorf("auth.test = %+v, %v", resp, err)
	}
}

func TestPostAndUpdateThroughSlackGo(t *testing.T) {
	w := newWorkspace(t, Options{})
	ch := w.ChannelID("access-requests")
	blocks := slack.MsgOptionBlocks(
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*hello* <@"+w.alice+">", false, false), nil, nil),
		slack.NewActionBlock("a1", slack.NewButtonBlockElement("approve", "7", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false))),
	)
	gotCh, ts, err := w.api.PostMessage(ch, slack.MsgOptionText("hello", false), blocks)
	if err != nil || gotCh != ch || ts == "" {
		t.Fatalf("chat.postMessage = %q %q %v", gotCh, ts, err)
	}
	if _, _, err := w.api.PostMessage(ch); apiError(t, err).Err != "no_text" {
		t.Errorf("empty message: %v", err)
	}
	if _, _, err := w.api.PostMessage("C404", slack.MsgOptionText("x", false)); apiError(t, err).Err != "channel_not_found" {
		t.Errorf("unknown channel: %v", err)
	}
	bad := slack.MsgOptionBlocks(slack.NewInputBlock("x", slack.NewTextBlockObject(slack.PlainTextType, "L", false, false), nil,
		slack.NewPlainTextInputBlockElement(nil, "x")))
	if _, _, err := w.api.PostMessage(ch, slack.MsgOptionText("x", false), bad); apiError(t, err).Err != "invalid_blocks" {
		t.Errorf("input block in a message: %v", err)
	}
	if _, _, _, err := w.api.UpdateMessage(ch, ts, slack.MsgOptionText("decided", false)); err != nil {
		t.Fatal(err)
	}
	msgs := w.Messages(ch)
	if len(msgs) != 1 || msgs[0].Text != "decided" || msgs[0].Blocks != nil || msgs[0].Edited.IsZero() {
		t.Errorf("after chat.update: %+v", msgs)
	}
	if _, _, _, err := w.api.UpdateMessage(ch, "1.000001", slack.MsgOptionText("x", false)); apiError(t, err).Err != "message_not_found" {
		t.Errorf("unknown ts: %v", err)
	}
}

func TestDirectMessages(t *testing.T) {
	w := newWorkspace(t, Options{})
	ch, _, already, err := w.api.OpenConversation(&slack.OpenConversationParameters{Users: []string{w.alice}})
	if err != nil || !strings.HasPrefix(ch.ID, "D") || already {
		t.Fatalf("conversations.open = %+v %v %v", ch, already, err)
	}
	again, _, already, err := w.api.OpenConversation(&slack.OpenConversationParameters{Users: []string{w.alice}})
	if err != nil || again.ID != ch.ID || !already {
		t.Errorf("second conversations.open = %+v %v %v", again, already, err)
	}
	if _, _, err := w.api.PostMessage(ch.ID, slack.MsgOptionText("your access is live", false)); err != nil {
		t.Fatal(err)
	}
	if dms := w.DirectMessages(w.alice); len(dms) != 1 || dms[0].Text != "your access is live" {
		t.Errorf("alice's DMs = %+v", dms)
	}
	if dms := w.DirectMessages(w.bob); len(dms) != 0 {
		t.Errorf("bob sees %+v", dms)
	}
	if _, _, _, err := w.api.OpenConversation(&slack.OpenConversationParameters{Users: []string{"U404"}}); apiError(t, err).Err != "user_not_found" {
		t.Errorf("unknown user: %v", err)
	}
	noIM := newWorkspace(t, Options{Scopes: []string{"chat:write", "users:read"}})
	_, _, _, err = noIM.api.OpenConversation(&slack.OpenConversationParameters{Users: []string{noIM.alice}})
	if se := apiError(t, err); se.Err != "missing_scope" || se.Needed != "im:write" {
		t.Errorf("without im:write: %+v", se)
	}
}

func TestRateLimitThroughSlackGo(t *testing.T) {
	w := newWorkspace(t, Options{})
	w.RateLimitNext("chat.postMessage", 7*time.Second)
	_, _, err := w.api.PostMessage(w.ChannelID("access-requests"), slack.MsgOptionText("x", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Fatalf("rate-limited post: %v", err)
	}
	if len(w.Messages(w.ChannelID("access-requests"))) != 0 {
		t.Error("a rate-limited post was stored")
	}
	if _, _, err := w.api.PostMessage(w.ChannelID("access-requests"), slack.MsgOptionText("x", false)); err != nil {
		t.Errorf("the next post: %v", err)
	}
	if n := w.Calls("chat.postMessage"); n != 2 {
		t.Errorf("calls = %d", n)
	}
}

func TestViewsOpenTriggers(t *testing.T) {
	// The portal stand-in verifies with slack-go, which reads the wall
	// clock: start the workspace's clock there.
	clock := &fakeClock{now: time.Now()}
	w := newWorkspace(t, Options{Clock: clock.Now})
	var triggers []string
	portal := httptest.NewServer(handlerFunc(func(c slack.SlashCommand) { triggers = append(triggers, c.TriggerID) }))
	defer portal.Close()
	w.SetPortal(portal.URL, portal.URL)
	for range 3 {
		if reply, err := w.SlashCommand(context.Background(), w.alice, ""); err != nil || reply.Status != 200 {
			t.Fatal(reply, err)
		}
	}
	modal := slack.ModalViewRequest{
		Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, "Request access", false, false),
		Submit: slack.NewTextBlockObject(slack.PlainTextType, "Request", false, false), CallbackID: "request_access",
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("reason", slack.NewTextBlockObject(slack.PlainTextType, "Reason", false, false), nil,
			slack.NewPlainTextInputBlockElement(nil, "reason"))}},
	}
	resp, err := w.api.OpenView(triggers[0], modal)
	if err != nil || resp.ID == "" || resp.CallbackID != "request_access" {
		t.Fatalf("views.open = %+v %v", resp, err)
	}
	if v, ok := w.OpenView(w.alice); !ok || v.ID != resp.ID {
		t.Errorf("alice's open modal = %+v %v", v, ok)
	}
	if _, err := w.api.OpenView(triggers[0], modal); apiError(t, err).Err != "exchanged_trigger_id" {
		t.Errorf("reused trigger: %v", err)
	}
	if _, err := w.api.OpenView("1.2.bogus", modal); apiError(t, err).Err != "invalid_trigger_id" {
		t.Errorf("unknown trigger: %v", err)
	}
	clock.Advance(TriggerLifetime + time.Second)
	if _, err := w.api.OpenView(triggers[1], modal); apiError(t, err).Err != "expired_trigger_id" {
		t.Errorf("old trigger: %v", err)
	}
	long := modal
	long.Title = slack.NewTextBlockObject(slack.PlainTextType, "A title much longer than Slack allows", false, false)
	if _, err := w.api.OpenView(triggers[2], long); apiError(t, err).Err != "invalid_arguments" {
		t.Errorf("long title: %v", err)
	}
}
