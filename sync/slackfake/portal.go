package slackfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ResponseURLLifetime and ResponseURLUses bound a response_url: "up to 5
// times within 30 minutes" (https://api.slack.com/interactivity/handling#message_responses).
const (
	ResponseURLLifetime = 30 * time.Minute
	ResponseURLUses     = 5
)

// Errors of the simulated person's actions (not of the portal).
var (
	ErrNoPortal     = errors.New("slackfake: the portal's request URLs are not set")
	ErrNoSuchUser   = errors.New("slackfake: no such user")
	ErrNotVisible   = errors.New("slackfake: that message is not visible to the user")
	ErrNoSuchButton = errors.New("slackfake: no such button on the message")
	ErrNoSuchView   = errors.New("slackfake: no such modal open for the user")
	ErrBadInput     = errors.New("slackfake: the modal's inputs do not accept that")
)

// Reply is what the portal answered a request the workspace sent it.
type Reply struct {
	// Status is the HTTP status (0 when the request failed or timed out).
	Status int
	// Body is the answer's body.
	Body string
	// Ephemeral is the one-line answer shown to the person, if any.
	Ephemeral string
	// ViewErrors are the per-block errors a view_submission was answered
	// with (the modal stays open).
	ViewErrors map[string]string
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sign returns X-Slack-Signature and X-Slack-Request-Timestamp for body:
// "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + body))
// ("Verifying requests from Slack").
func (s *Server) sign(body []byte) (sig, stamp string) {
	stamp = strconv.FormatInt(s.clock().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(s.opts.SigningSecret))
	fmt.Fprintf(mac, "v0:%s:", stamp)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil)), stamp
}

// send posts a signed form to the portal.
func (s *Server) send(ctx context.Context, target string, form url.Values) (Reply, error) {
	if target == "" {
		return Reply{}, ErrNoPortal
	}
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Reply{}, fmt.Errorf("building request to the portal: %w", err)
	}
	sig, stamp := s.sign(body)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Signature", sig)
	req.Header.Set("X-Slack-Request-Timestamp", stamp)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	resp, err := s.client.Do(req)
	if err != nil {
		return Reply{}, fmt.Errorf("sending to the portal: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Reply{}, fmt.Errorf("reading the portal's answer: %w", err)
	}
	return Reply{Status: resp.StatusCode, Body: string(answer)}, nil
}

func (s *Server) newTriggerLocked(userID string) string {
	id := fmt.Sprintf("%d.%d.%s", s.seq+1, s.clock().Unix(), randomHex(16))
	s.seq++
	s.triggers[id] = &trigger{user: userID, issued: s.clock()}
	return id
}

func (s *Server) newResponseURLLocked(userID, channelID, messageTS string) string {
	token := randomHex(16)
	s.responses[token] = &responseURL{user: userID, channel: channelID, messageTS: messageTS, issued: s.clock()}
	base := s.baseURL
	if base == "" {
		base = "http://slack.invalid"
	}
	return base + "/response/" + s.opts.TeamID + "/" + token
}

func (s *Server) humanLocked(userID string) (*User, error) {
	u := s.users[userID]
	if u == nil || u.Bot || u.Deleted {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchUser, userID)
	}
	return u, nil
}

func (s *Server) addEphemeral(userID, channelID, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ephemerals = append(s.ephemerals, Ephemeral{User: userID, Channel: channelID, Text: text, At: s.clock()})
}

// SlashCommand types `/access text` as userID in the first public channel
// and sends the portal the form Slack sends ("App command payloads":
// token, team_id, team_domain, channel_id, channel_name, user_id,
// user_name, command, text, api_app_id, response_url, trigger_id). The
// answer's body, JSON with "text" or plain text, is shown ephemerally; an
// answer other than 200 shows Slack's failure line.
func (s *Server) SlashCommand(ctx context.Context, userID, text string) (Reply, error) {
	s.mu.Lock()
	u, err := s.humanLocked(userID)
	if err != nil {
		s.mu.Unlock()
		return Reply{}, err
	}
	ch := s.channels[s.chanOrder[0]]
	form := url.Values{
		"token": {"verification-token-unused"}, "team_id": {s.opts.TeamID}, "team_domain": {s.opts.TeamDomain},
		"channel_id": {ch.id}, "channel_name": {ch.name}, "user_id": {u.ID}, "user_name": {u.Name},
		"command": {s.opts.Command}, "text": {text}, "api_app_id": {"A0PORTAL"}, "is_enterprise_install": {"false"},
		"response_url": {s.newResponseURLLocked(u.ID, ch.id, "")}, "trigger_id": {s.newTriggerLocked(u.ID)},
	}
	target := s.commandURL
	s.mu.Unlock()
	reply, err := s.send(ctx, target, form)
	if err != nil {
		s.addEphemeral(userID, ch.id, fmt.Sprintf("%s failed with the error \"operation_timeout\"", s.opts.Command))
		return reply, err
	}
	if reply.Status != http.StatusOK {
		s.addEphemeral(userID, ch.id, fmt.Sprintf("%s failed with the error \"http_service_error\"", s.opts.Command))
		return reply, nil
	}
	text, inChannel := commandAnswer(reply.Body)
	switch {
	case text == "":
	case inChannel:
		s.mu.Lock()
		ch.messages = append(ch.messages, &Message{Channel: ch.id, TS: s.newTSLocked(), User: s.botID, Text: text})
		s.mu.Unlock()
	default:
		reply.Ephemeral = text
		s.addEphemeral(userID, ch.id, text)
	}
	return reply, nil
}

// commandAnswer is the text of a slash command's immediate answer: a JSON
// message's text, or a plain-text body as is. It is ephemeral unless
// response_type is in_channel ("Slash commands", responding immediately).
func commandAnswer(body string) (text string, inChannel bool) {
	body = strings.TrimSpace(body)
	if body == "" {
		return "", false
	}
	var msg struct {
		Text         string `json:"text"`
		ResponseType string `json:"response_type"`
	}
	if json.Unmarshal([]byte(body), &msg) == nil {
		return msg.Text, msg.ResponseType == "in_channel"
	}
	return body, false
}

func (s *Server) userJSONFor(u *User) map[string]any {
	return map[string]any{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": s.opts.TeamID}
}

// findButtonLocked finds the button with actionID in a message's blocks.
func findButton(m *Message, actionID string) (blockID string, e element, ok bool) {
	bs, _ := parseBlocks(m.Blocks)
	for _, b := range bs {
		if b.Type != "actions" {
			continue
		}
		for _, el := range b.actionElements() {
			if el.Type == "button" && el.ActionID == actionID {
				return b.BlockID, el, true
			}
		}
	}
	return "", element{}, false
}

// Click presses the button with actionID on a message as userID and sends
// the portal a block_actions payload (block_actions reference: type, user,
// api_app_id, token, container, trigger_id, team, channel, message,
// state, response_url, actions). The portal's 200 only acknowledges: its
// body is ignored, as Slack ignores it; answers go to response_url.
func (s *Server) Click(ctx context.Context, userID, channelID, ts, actionID string) (Reply, error) {
	s.mu.Lock()
	u, err := s.humanLocked(userID)
	if err != nil {
		s.mu.Unlock()
		return Reply{}, err
	}
	c := s.channels[channelID]
	var m *Message
	if c != nil && (c.imUser == "" || c.imUser == userID) {
		m = c.find(ts)
	}
	if m == nil {
		s.mu.Unlock()
		return Reply{}, fmt.Errorf("%w: %s/%s", ErrNotVisible, channelID, ts)
	}
	blockID, button, ok := findButton(m, actionID)
	if !ok {
		s.mu.Unlock()
		return Reply{}, fmt.Errorf("%w: %s", ErrNoSuchButton, actionID)
	}
	now := s.clock()
	actionTS := fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
	payload := map[string]any{
		"type": "block_actions", "user": s.userJSONFor(u), "api_app_id": "A0PORTAL", "token": "verification-token-unused",
		"container":  map[string]any{"type": "message", "message_ts": m.TS, "channel_id": c.id, "is_ephemeral": false},
		"trigger_id": s.newTriggerLocked(u.ID), "team": map[string]any{"id": s.opts.TeamID, "domain": s.opts.TeamDomain},
		"enterprise": nil, "is_enterprise_install": false,
		"channel":      map[string]any{"id": c.id, "name": cmpOr(c.name, "directmessage")},
		"message":      s.messageJSON(m),
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": s.newResponseURLLocked(u.ID, c.id, m.TS),
		"actions": []map[string]any{{
			"action_id": button.ActionID, "block_id": blockID, "text": button.Text, "value": button.Value,
			"style": button.Style, "type": "button", "action_ts": actionTS,
		}},
	}
	target := s.interactURL
	s.mu.Unlock()
	return s.sendInteraction(ctx, target, userID, c.id, payload)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) sendInteraction(ctx context.Context, target, userID, channelID string, payload map[string]any) (Reply, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return Reply{}, fmt.Errorf("encoding payload: %w", err)
	}
	reply, err := s.send(ctx, target, url.Values{"payload": {string(raw)}})
	if err != nil || reply.Status != http.StatusOK {
		s.addEphemeral(userID, channelID, ":warning: The portal app did not respond.")
	}
	return reply, err
}

// stateValues builds a view_submission's state.values from the values a
// person entered (block_id → option value or text). A select left alone
// keeps its initial option; a required input left empty cannot be
// submitted, as in Slack's client.
func stateValues(v *View, entered map[string]string) (map[string]any, error) {
	var m modal
	json.Unmarshal(v.JSON, &m)
	bs, _ := parseBlocks(m.Blocks)
	state := map[string]any{}
	seen := map[string]bool{}
	for _, b := range bs {
		if b.Type != "input" {
			continue
		}
		value, given := entered[b.BlockID]
		seen[b.BlockID] = true
		e := *b.Element
		var entry map[string]any
		switch e.Type {
		case "static_select":
			opt := e.InitialOption
			if given && value != "" {
				i := slices.IndexFunc(e.Options, func(o option) bool { return o.Value == value })
				if i < 0 {
					return nil, fmt.Errorf("%w: %q is not an option of %s", ErrBadInput, value, b.BlockID)
				}
				opt = &e.Options[i]
			}
			entry = map[string]any{"type": "static_select", "selected_option": opt}
			if opt == nil && !b.Optional {
				return nil, fmt.Errorf("%w: %s is required", ErrBadInput, b.BlockID)
			}
		case "plain_text_input":
			text := e.InitialValue
			if given {
				text = value
			}
			if strings.TrimSpace(text) == "" && !b.Optional {
				return nil, fmt.Errorf("%w: %s is required", ErrBadInput, b.BlockID)
			}
			if e.MaxLength > 0 && len([]rune(text)) > e.MaxLength {
				return nil, fmt.Errorf("%w: %s is too long", ErrBadInput, b.BlockID)
			}
			entry = map[string]any{"type": "plain_text_input", "value": text}
		}
		state[b.BlockID] = map[string]any{e.ActionID: entry}
	}
	for id := range entered {
		if !seen[id] {
			return nil, fmt.Errorf("%w: no input %s", ErrBadInput, id)
		}
	}
	return state, nil
}

// Submit submits the modal viewID open for userID with the entered values
// (block_id → option value or text) and sends the portal a view_submission
// payload. The portal's answer decides what happens to the modal
// ("Modals", handling submissions): an empty 200 closes it;
// {"response_action":"errors","errors":{…}} keeps it open with the errors;
// "clear" closes every modal of the person; "update" replaces it.
func (s *Server) Submit(ctx context.Context, userID, viewID string, values map[string]string) (Reply, error) {
	s.mu.Lock()
	v := s.views[viewID]
	u, err := s.humanLocked(userID)
	if err != nil || v == nil || v.User != userID {
		s.mu.Unlock()
		return Reply{}, fmt.Errorf("%w: %s", ErrNoSuchView, viewID)
	}
	state, err := stateValues(v, values)
	if err != nil {
		s.mu.Unlock()
		return Reply{}, err
	}
	payload := map[string]any{
		"type": "view_submission", "team": map[string]any{"id": s.opts.TeamID, "domain": s.opts.TeamDomain},
		"user": s.userJSONFor(u), "api_app_id": "A0PORTAL", "token": "verification-token-unused",
		"trigger_id": s.newTriggerLocked(u.ID), "view": s.viewJSON(v, state), "response_urls": []any{},
		"enterprise": nil, "is_enterprise_install": false,
	}
	target := s.interactURL
	s.mu.Unlock()
	reply, err := s.sendInteraction(ctx, target, userID, "", payload)
	if err != nil {
		return reply, err
	}
	s.applyViewAnswer(v, &reply)
	return reply, nil
}

func (s *Server) applyViewAnswer(v *View, reply *Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if reply.Status != http.StatusOK {
		v.Errors = map[string]string{"": "We had some trouble connecting. Try again?"}
		return
	}
	var answer struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if strings.TrimSpace(reply.Body) != "" {
		json.Unmarshal([]byte(reply.Body), &answer)
	}
	switch answer.ResponseAction {
	case "errors":
		v.Errors, reply.ViewErrors = answer.Errors, answer.Errors
	case "update":
		if nv, problem := parseModal(answer.View); problem == "" {
			v.CallbackID, v.PrivateMetadata, v.Title, v.JSON, v.Errors = nv.CallbackID, nv.PrivateMetadata, nv.Title, answer.View, nil
		}
	case "clear":
		for id, other := range s.views {
			if other.User == v.User {
				delete(s.views, id)
			}
		}
	default:
		delete(s.views, v.ID)
	}
}

// CloseView closes a modal without submitting it (Cancel).
func (s *Server) CloseView(userID, viewID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.views[viewID]; v != nil && v.User == userID {
		delete(s.views, viewID)
	}
}

func (s *Server) portalRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /response/{team}/{token}", s.respond)
}

// respond serves a response_url: a JSON message that is shown ephemerally
// (the default), posted in the channel (response_type in_channel), or
// replaces or deletes the message whose button was clicked
// (replace_original, delete_original). A used-up or expired URL is 404.
func (s *Server) respond(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Text            string          `json:"text"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
		Blocks          json.RawMessage `json:"blocks"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&msg); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ru := s.responses[r.PathValue("token")]
	switch {
	case ru == nil || s.clock().Sub(ru.issued) > ResponseURLLifetime:
		http.Error(w, "expired_url", http.StatusNotFound)
		return
	case ru.uses >= ResponseURLUses:
		http.Error(w, "used_url", http.StatusNotFound)
		return
	}
	ru.uses++
	c := s.channels[ru.channel]
	var original *Message
	if c != nil && ru.messageTS != "" {
		original = c.find(ru.messageTS)
	}
	switch {
	case msg.DeleteOriginal && original != nil:
		c.messages = slices.DeleteFunc(c.messages, func(m *Message) bool { return m == original })
	case msg.ReplaceOriginal && original != nil:
		original.Text, original.Blocks, original.Edited = msg.Text, nilIfEmpty(msg.Blocks), s.clock()
	case msg.ResponseType == "in_channel" && c != nil:
		c.messages = append(c.messages, &Message{Channel: c.id, TS: s.newTSLocked(), User: s.botID, Text: msg.Text, Blocks: nilIfEmpty(msg.Blocks)})
	default:
		s.ephemerals = append(s.ephemerals, Ephemeral{User: ru.user, Channel: ru.channel, Text: msg.Text, At: s.clock()})
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "ok")
}

func nilIfEmpty(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}
