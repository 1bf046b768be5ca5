package slackfake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
)

// handlerFunc is a stand-in portal for slash commands that checks the
// signature with slack-go's own verifier.
func handlerFunc(f func(slack.SlashCommand)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !verified(w, r) {
			return
		}
		c, err := slack.SlashCommandParse(r)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f(c)
	}
}

// verified checks r with slack.NewSecretsVerifier, as an app would, and
// puts the body back for parsing.
func verified(w http.ResponseWriter, r *http.Request) bool {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	v, err := slack.NewSecretsVerifier(r.Header, testSecret)
	if err == nil {
		v.Write(body)
		err = v.Ensure()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return false
	}
	return true
}

func TestSlashCommandSignedAndAnswered(t *testing.T) {
	w := newWorkspace(t, Options{})
	var got slack.SlashCommand
	portal := httptest.NewServer(handlerFunc(func(c slack.SlashCommand) { got = c }))
	defer portal.Close()
	w.SetPortal(portal.URL, "")
	reply, err := w.SlashCommand(context.Background(), w.alice, "prod-db 1h investigating")
	if err != nil || reply.Status != 200 {
		t.Fatalf("slash command: %+v %v", reply, err)
	}
	if got.UserID != w.alice || got.Text != "prod-db 1h investigating" || got.Command != "/access" ||
		got.TriggerID == "" || !strings.HasPrefix(got.ResponseURL, w.url+"/response/") || got.TeamID != "T0PORTAL" {
		t.Errorf("portal got %+v", got)
	}

	// The answer's JSON text is shown to the person only.
	answering := httptest.NewServer(handlerFunc(func(slack.SlashCommand) {}))
	answering.Config.Handler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if verified(rw, r) {
			rw.Header().Set("Content-Type", "application/json")
			io.WriteString(rw, `{"response_type":"ephemeral","text":"Request 7 for prod-db is pending."}`)
		}
	})
	defer answering.Close()
	w.SetPortal(answering.URL, "")
	if reply, _ := w.SlashCommand(context.Background(), w.bob, "prod-db 1h x"); reply.Ephemeral != "Request 7 for prod-db is pending." {
		t.Errorf("ephemeral = %q", reply.Ephemeral)
	}
	if e := w.Ephemerals(w.bob); len(e) != 1 || e[0].Text != "Request 7 for prod-db is pending." {
		t.Errorf("bob's ephemerals = %+v", e)
	}
	if e := w.Ephemerals(w.alice); len(e) != 0 {
		t.Errorf("alice sees %+v", e)
	}
}

func TestSignatureRejectedWithOtherSecret(t *testing.T) {
	s := New(Options{BotToken: testToken, SigningSecret: "another-secret"})
	alice := s.AddUser(User{Name: "alice", Email: "alice@example.com"})
	portal := httptest.NewServer(handlerFunc(func(slack.SlashCommand) { t.Error("accepted a request signed with another secret") }))
	defer portal.Close()
	s.SetPortal(portal.URL, "")
	reply, err := s.SlashCommand(context.Background(), alice, "list")
	if err != nil || reply.Status != http.StatusUnauthorized {
		t.Errorf("reply %+v %v", reply, err)
	}
	if e := s.Ephemerals(alice); len(e) != 1 || !strings.Contains(e[0].Text, "failed with the error") {
		t.Errorf("ephemerals %+v", e)
	}
}

// interactions is a stand-in portal's interactivity endpoint: it records
// the callbacks slack-go parses and answers with answer (may be nil).
type interactions struct {
	mu     sync.Mutex
	got    []slack.InteractionCallback
	answer func(slack.InteractionCallback) string
}

func (p *interactions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !verified(w, r) {
		return
	}
	cb, err := slack.InteractionCallbackParse(r)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	p.mu.Lock()
	p.got = append(p.got, cb)
	p.mu.Unlock()
	if p.answer != nil {
		if body := p.answer(cb); body != "" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, body)
		}
	}
}

func (p *interactions) last() slack.InteractionCallback {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got[len(p.got)-1]
}

func TestClickSendsBlockActions(t *testing.T) {
	w := newWorkspace(t, Options{})
	p := &interactions{answer: func(slack.InteractionCallback) string { return `{"text":"ignored"}` }}
	portal := httptest.NewServer(p)
	defer portal.Close()
	w.SetPortal("", portal.URL)
	ch := w.ChannelID("access-requests")
	_, ts, err := w.api.PostMessage(ch, slack.MsgOptionText("request 7", false), slack.MsgOptionBlocks(
		slack.NewActionBlock("request-7-actions",
			slack.NewButtonBlockElement("approve", "7", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)),
			slack.NewButtonBlockElement("deny", "7", slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false)))))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := w.Click(context.Background(), w.bob, ch, ts, "deny")
	if err != nil || reply.Status != 200 {
		t.Fatalf("click: %+v %v", reply, err)
	}
	cb := p.last()
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != w.bob || cb.Container.ChannelID != ch || cb.Container.MessageTs != ts ||
		cb.TriggerID == "" || cb.ResponseURL == "" || len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("block_actions = %+v", cb)
	}
	if a := cb.ActionCallback.BlockActions[0]; a.ActionID != "deny" || a.Value != "7" || a.BlockID != "request-7-actions" {
		t.Errorf("action = %+v", a)
	}
	if e := w.Ephemerals(w.bob); len(e) != 0 {
		t.Errorf("a block_actions answer body was shown: %+v", e)
	}
	if _, err := w.Click(context.Background(), w.bob, ch, ts, "extend"); !errors.Is(err, ErrNoSuchButton) {
		t.Errorf("missing button: %v", err)
	}

	// The response_url answers the person, replaces the message, and is
	// used up after five posts.
	post := func(msg slack.WebhookMessage) error { return slack.PostWebhook(cb.ResponseURL, &msg) }
	if err := post(slack.WebhookMessage{Text: "You cannot deny your own request; cancel it instead", ResponseType: "ephemeral"}); err != nil {
		t.Fatal(err)
	}
	if e := w.Ephemerals(w.bob); len(e) != 1 || !strings.Contains(e[0].Text, "cancel it instead") {
		t.Errorf("ephemerals = %+v", e)
	}
	if err := post(slack.WebhookMessage{Text: "Denied", ReplaceOriginal: true}); err != nil {
		t.Fatal(err)
	}
	if m := w.Messages(ch); len(m) != 1 || m[0].Text != "Denied" || m[0].Blocks != nil {
		t.Errorf("after replace_original: %+v", m)
	}
	for range 3 {
		if err := post(slack.WebhookMessage{Text: "again"}); err != nil {
			t.Fatal(err)
		}
	}
	var sce slack.StatusCodeError
	if err := post(slack.WebhookMessage{Text: "sixth"}); !errors.As(err, &sce) || sce.Code != 404 {
		t.Errorf("sixth use: %v", err)
	}
}

func TestDMButtonsOnlyForTheirOwner(t *testing.T) {
	w := newWorkspace(t, Options{})
	_, ts, err := w.api.PostMessage(w.alice, slack.MsgOptionText("ends soon", false), slack.MsgOptionBlocks(
		slack.NewActionBlock("g", slack.NewButtonBlockElement("extend", "3", slack.NewTextBlockObject(slack.PlainTextType, "Extend", false, false)))))
	if err != nil {
		t.Fatal(err)
	}
	dm := w.DirectMessages(w.alice)[0].Channel
	if _, err := w.Click(context.Background(), w.bob, dm, ts, "extend"); !errors.Is(err, ErrNotVisible) {
		t.Errorf("bob clicked alice's DM: %v", err)
	}
}

func openModal(t *testing.T, w *workspace, user string, view slack.ModalViewRequest) string {
	t.Helper()
	var trigger string
	portal := httptest.NewServer(handlerFunc(func(c slack.SlashCommand) { trigger = c.TriggerID }))
	defer portal.Close()
	w.SetPortal(portal.URL, "")
	if _, err := w.SlashCommand(context.Background(), user, ""); err != nil {
		t.Fatal(err)
	}
	resp, err := w.api.OpenView(trigger, view)
	if err != nil {
		t.Fatal(err)
	}
	return resp.ID
}

func approveModal() slack.ModalViewRequest {
	pt := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, pt("Duration"), "duration",
		slack.NewOptionBlockObject("30m", pt("30m"), nil), slack.NewOptionBlockObject("1h", pt("1h"), nil))
	sel.InitialOption = slack.NewOptionBlockObject("1h", pt("1h"), nil)
	comment := slack.NewInputBlock("comment", pt("Comment"), nil, slack.NewPlainTextInputBlockElement(nil, "comment"))
	comment.Optional = true
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: pt("Approve access"), Submit: pt("Approve"), CallbackID: "approve_request", PrivateMetadata: "7",
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("duration", pt("Grant for"), nil, sel), comment}},
	}
}

func TestSubmitSendsViewSubmission(t *testing.T) {
	w := newWorkspace(t, Options{})
	viewID := openModal(t, w, w.bob, approveModal())
	answer := `{"response_action":"errors","errors":{"duration":"at most 30m"}}`
	p := &interactions{answer: func(slack.InteractionCallback) string { return answer }}
	portal := httptest.NewServer(p)
	defer portal.Close()
	w.SetPortal("", portal.URL)

	if _, err := w.Submit(context.Background(), w.bob, viewID, map[string]string{"duration": "2h"}); !errors.Is(err, ErrBadInput) {
		t.Errorf("an option the select lacks: %v", err)
	}
	reply, err := w.Submit(context.Background(), w.bob, viewID, map[string]string{"comment": "ok for the incident"})
	if err != nil || reply.ViewErrors["duration"] != "at most 30m" {
		t.Fatalf("submit: %+v %v", reply, err)
	}
	cb := p.last()
	if cb.Type != slack.InteractionTypeViewSubmission || cb.User.ID != w.bob || cb.View.CallbackID != "approve_request" || cb.View.PrivateMetadata != "7" {
		t.Fatalf("view_submission = %+v", cb)
	}
	if got := cb.View.State.Values["duration"]["duration"].SelectedOption.Value; got != "1h" {
		t.Errorf("untouched select submitted %q, want its initial 1h", got)
	}
	if got := cb.View.State.Values["comment"]["comment"].Value; got != "ok for the incident" {
		t.Errorf("comment = %q", got)
	}
	if v, ok := w.OpenView(w.bob); !ok || v.Errors["duration"] != "at most 30m" {
		t.Errorf("the modal should stay open with the error: %+v %v", v, ok)
	}
	answer = ""
	if _, err := w.Submit(context.Background(), w.bob, viewID, map[string]string{"duration": "30m"}); err != nil {
		t.Fatal(err)
	}
	if got := p.last().View.State.Values["duration"]["duration"].SelectedOption.Value; got != "30m" {
		t.Errorf("duration = %q", got)
	}
	if _, ok := w.OpenView(w.bob); ok {
		t.Error("an empty 200 should close the modal")
	}
	if _, err := w.Submit(context.Background(), w.alice, viewID, nil); !errors.Is(err, ErrNoSuchView) {
		t.Errorf("submitting a closed modal: %v", err)
	}
}

func TestRequiredInputs(t *testing.T) {
	w := newWorkspace(t, Options{})
	pt := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	viewID := openModal(t, w, w.bob, slack.ModalViewRequest{
		Type: slack.VTModal, Title: pt("Deny access"), Submit: pt("Deny"), CallbackID: "deny_request", PrivateMetadata: "7",
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewInputBlock("comment", pt("Comment"), nil, slack.NewPlainTextInputBlockElement(nil, "comment"))}},
	})
	w.SetPortal("", "http://127.0.0.1:1/unused")
	if _, err := w.Submit(context.Background(), w.bob, viewID, map[string]string{"comment": "  "}); !errors.Is(err, ErrBadInput) {
		t.Errorf("empty required comment: %v", err)
	}
}

func TestPageActsAsPeople(t *testing.T) {
	w := newWorkspace(t, Options{})
	p := &interactions{}
	portal := httptest.NewServer(p)
	defer portal.Close()
	var commands []slack.SlashCommand
	cmdPortal := httptest.NewServer(handlerFunc(func(c slack.SlashCommand) { commands = append(commands, c) }))
	defer cmdPortal.Close()
	w.SetPortal(cmdPortal.URL, portal.URL)
	ch := w.ChannelID("access-requests")
	_, ts, err := w.api.PostMessage(ch, slack.MsgOptionText("x", false), slack.MsgOptionBlocks(
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Access request 7* from <@"+w.alice+"> on <!date^1764752400^{date_short_pretty}|2025-12-03 09:00 UTC>", false, false), nil, nil),
		slack.NewActionBlock("a", slack.NewButtonBlockElement("approve", "7", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)))))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(w.url + "/?as=" + w.bob)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"<b>Access request 7</b> from @alice on 2025-12-03 09:00 UTC", `name="action" value="approve"`, ts} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	postForm := func(path string, form url.Values, origin string) int {
		req, _ := http.NewRequest("POST", w.url+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		if origin != w.url {
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	click := url.Values{"as": {w.bob}, "channel": {ch}, "ts": {ts}, "action": {"approve"}}
	if code := postForm("/ui/click", click, "https://evil.example"); code != http.StatusForbidden {
		t.Errorf("cross-origin click: %d", code)
	}
	if len(p.got) != 0 {
		t.Fatal("a cross-origin click reached the portal")
	}
	if code := postForm("/ui/click", click, w.url); code != http.StatusSeeOther {
		t.Errorf("click: %d", code)
	}
	if cb := p.last(); cb.User.ID != w.bob || cb.ActionCallback.BlockActions[0].ActionID != "approve" {
		t.Errorf("portal got %+v", cb)
	}
	if code := postForm("/ui/command", url.Values{"as": {w.alice}, "text": {"/access list"}}, w.url); code != http.StatusSeeOther {
		t.Errorf("command: %d", code)
	}
	if len(commands) != 1 || commands[0].Text != "list" || commands[0].UserID != w.alice {
		t.Errorf("commands = %+v", commands)
	}
}

func TestPageModalForm(t *testing.T) {
	w := newWorkspace(t, Options{})
	viewID := openModal(t, w, w.bob, approveModal())
	p := &interactions{}
	portal := httptest.NewServer(p)
	defer portal.Close()
	w.SetPortal("", portal.URL)
	resp, err := http.Get(w.url + "/?as=" + w.bob)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`<h2>Approve access</h2>`, `name="input.duration"`, `<option value="1h" selected>1h</option>`, `name="input.comment"`, `value="` + viewID + `"`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"as": {w.bob}, "view": {viewID}, "input.duration": {"30m"}, "input.comment": {"fine"}}
	req, _ := http.NewRequest("POST", w.url+"/ui/submit", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %v %v", resp, err)
	}
	cb := p.last()
	if cb.View.State.Values["duration"]["duration"].SelectedOption.Value != "30m" || cb.View.State.Values["comment"]["comment"].Value != "fine" {
		t.Errorf("submitted state %+v", cb.View.State.Values)
	}
	if _, open := w.OpenView(w.bob); open {
		t.Error("modal still open after an empty 200")
	}
}

func TestSlashCommandAnswerInChannel(t *testing.T) {
	w := newWorkspace(t, Options{})
	portal := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if verified(rw, r) {
			rw.Header().Set("Content-Type", "application/json")
			io.WriteString(rw, `{"response_type":"in_channel","text":"everyone sees this"}`)
		}
	}))
	defer portal.Close()
	w.SetPortal(portal.URL, "")
	reply, err := w.SlashCommand(context.Background(), w.alice, "list")
	if err != nil || reply.Ephemeral != "" {
		t.Fatalf("reply %+v %v", reply, err)
	}
	if m := w.Messages(w.ChannelID("access-requests")); len(m) != 1 || m[0].Text != "everyone sees this" {
		t.Errorf("channel = %+v", m)
	}
	if e := w.Ephemerals(w.alice); len(e) != 0 {
		t.Errorf("shown ephemerally too: %+v", e)
	}
}
