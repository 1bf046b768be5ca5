package slackfake

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// methodScopes are the bot scopes each method needs, from each method's
// reference page on docs.slack.dev ("Scopes"): views.open and auth.test
// need none.
var methodScopes = map[string]string{
	"users.info":          "users:read",
	"users.lookupByEmail": "users:read.email",
	"chat.postMessage":    "chat:write",
	"chat.update":         "chat:write",
	"conversations.open":  "im:write",
	"views.open":          "",
	"auth.test":           "",
}

// TriggerLifetime is how long a trigger_id can open a modal: "Triggers
// expire in three seconds" (https://api.slack.com/interactivity/handling#modal_responses).
const TriggerLifetime = 3 * time.Second

type apiArgs struct {
	form url.Values
	json map[string]json.RawMessage
}

// get returns an argument from a form or a JSON body (where a non-string
// value is returned as its JSON text, e.g. a view object).
func (a apiArgs) get(name string) string {
	if a.json != nil {
		raw, ok := a.json[name]
		if !ok {
			return ""
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return string(raw)
	}
	return a.form.Get(name)
}

type apiHandler func(a apiArgs) (map[string]any, string)

func (s *Server) apiRoutes(m *http.ServeMux) {
	handlers := map[string]apiHandler{
		"auth.test":           s.authTest,
		"users.info":          s.usersInfo,
		"users.lookupByEmail": s.usersLookupByEmail,
		"chat.postMessage":    s.chatPostMessage,
		"chat.update":         s.chatUpdate,
		"conversations.open":  s.conversationsOpen,
		"views.open":          s.viewsOpen,
	}
	m.HandleFunc("/api/{method}", func(w http.ResponseWriter, r *http.Request) {
		method := r.PathValue("method")
		h, ok := handlers[method]
		if !ok {
			// Slack answers an unknown method with 200 and unknown_method.
			writeAPI(w, nil, "unknown_method")
			return
		}
		s.serveMethod(w, r, method, h)
	})
}

// serveMethod applies what every method shares: counting, injected 429s,
// the token, the scope, then the method itself.
func (s *Server) serveMethod(w http.ResponseWriter, r *http.Request, method string, h apiHandler) {
	s.mu.Lock()
	s.calls[method]++
	var retry int
	if q := s.rateLimits[method]; len(q) > 0 {
		retry, s.rateLimits[method] = q[0], q[1:]
	}
	s.mu.Unlock()
	if retry > 0 {
		// "Rate limits": a 429 Too Many Requests with Retry-After in seconds.
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"ok":false,"error":"ratelimited"}`))
		return
	}
	args, token, problem := readArgs(r)
	if problem != "" {
		writeAPI(w, nil, problem)
		return
	}
	switch {
	case token == "":
		writeAPI(w, nil, "not_authed")
		return
	case token != s.opts.BotToken:
		writeAPI(w, nil, "invalid_auth")
		return
	}
	if need := methodScopes[method]; need != "" && !s.hasScope(need) {
		// Slack names the missing scope and the token's scopes.
		writeAPI(w, map[string]any{"needed": need, "provided": strings.Join(s.scopes, ",")}, "missing_scope")
		return
	}
	body, errCode := h(args)
	writeAPI(w, body, errCode)
}

// readArgs reads a method's arguments and the token. "Tokens should be
// passed as an HTTP Authorization header or alternatively, as a POST
// parameter"; a JSON body takes the token only in the header
// (https://api.slack.com/web#posting_json).
func readArgs(r *http.Request) (apiArgs, string, string) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method == http.MethodPost && ct == "application/json" {
		var body map[string]json.RawMessage
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
			return apiArgs{}, token, "invalid_json"
		}
		return apiArgs{json: body}, token, ""
	}
	if err := r.ParseForm(); err != nil {
		return apiArgs{}, token, "invalid_form_data"
	}
	if token == "" {
		token = r.Form.Get("token")
	}
	return apiArgs{form: r.Form}, token, ""
}

func writeAPI(w http.ResponseWriter, body map[string]any, errCode string) {
	if body == nil {
		body = map[string]any{}
	}
	body["ok"] = errCode == ""
	if errCode != "" {
		body["error"] = errCode
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(body)
}

func (s *Server) authTest(apiArgs) (map[string]any, string) {
	return map[string]any{
		"url": "https://" + s.opts.TeamDomain + ".slack.com/", "team": s.opts.TeamDomain, "user": "portal",
		"team_id": s.opts.TeamID, "user_id": s.botID, "bot_id": "B" + s.botID[1:],
	}, ""
}

// userJSON is a user object as users.info shows it; the profile email only
// with users:read.email ("users:read.email … grants access to the email
// field", users.info reference).
func (s *Server) userJSON(u *User) map[string]any {
	profile := map[string]any{"real_name": u.RealName, "display_name": u.Name}
	if s.hasScope("users:read.email") && !u.Bot {
		profile["email"] = u.Email
	}
	return map[string]any{
		"id": u.ID, "team_id": s.opts.TeamID, "name": u.Name, "real_name": u.RealName,
		"deleted": u.Deleted, "is_bot": u.Bot, "profile": profile,
	}
}

func (s *Server) usersInfo(a apiArgs) (map[string]any, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := a.get("user")
	if id == "" {
		return nil, "invalid_arguments"
	}
	u := s.users[id]
	if u == nil {
		return nil, "user_not_found"
	}
	return map[string]any{"user": s.userJSON(u)}, ""
}

// usersLookupByEmail answers users_not_found when nobody has the email
// (users.lookupByEmail reference, "Errors").
func (s *Server) usersLookupByEmail(a apiArgs) (map[string]any, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	email := a.get("email")
	if email == "" {
		return nil, "invalid_arguments"
	}
	u := s.userByEmailLocked(email)
	if u == nil || u.Bot {
		return nil, "users_not_found"
	}
	return map[string]any{"user": s.userJSON(u)}, ""
}

// resolveChannelLocked finds where a message goes: a channel or DM id, or
// a user id (chat.postMessage: "passing a user ID … will post to that
// user's App Home / DM with the app").
func (s *Server) resolveChannelLocked(id string) *channel {
	if c := s.channels[id]; c != nil {
		return c
	}
	if u := s.users[id]; u != nil && !u.Bot && !u.Deleted {
		return s.channels[s.imLocked(id, true)]
	}
	return nil
}

// messageContent checks text and blocks as chat.postMessage and chat.update
// do: one of them is required (no_text), blocks must be valid Block Kit
// (invalid_blocks), text at most 40,000 characters (msg_too_long).
func messageContent(a apiArgs) (string, json.RawMessage, string) {
	text, blocks := a.get("text"), a.get("blocks")
	if len([]rune(text)) > 40000 {
		return "", nil, "msg_too_long"
	}
	var raw json.RawMessage
	if blocks != "" && blocks != "null" && blocks != "[]" {
		if problem := validateBlocks([]byte(blocks), 50, false); problem != "" {
			return "", nil, "invalid_blocks"
		}
		raw = json.RawMessage(blocks)
	}
	if text == "" && raw == nil {
		return "", nil, "no_text"
	}
	return text, raw, ""
}

func (s *Server) messageJSON(m *Message) map[string]any {
	out := map[string]any{"type": "message", "user": m.User, "bot_id": "B" + s.botID[1:], "text": m.Text, "ts": m.TS}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if !m.Edited.IsZero() {
		out["edited"] = map[string]any{"user": m.User, "ts": strconv.FormatInt(m.Edited.Unix(), 10) + ".000000"}
	}
	return out
}

func (s *Server) chatPostMessage(a apiArgs) (map[string]any, string) {
	text, blocks, problem := messageContent(a)
	if problem != "" {
		return nil, problem
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.resolveChannelLocked(a.get("channel"))
	if c == nil {
		return nil, "channel_not_found"
	}
	m := &Message{Channel: c.id, TS: s.newTSLocked(), User: s.botID, Text: text, Blocks: blocks}
	c.messages = append(c.messages, m)
	return map[string]any{"channel": c.id, "ts": m.TS, "message": s.messageJSON(m)}, ""
}

// chatUpdate replaces a message the app posted: message_not_found for an
// unknown ts, cant_update_message for someone else's message.
func (s *Server) chatUpdate(a apiArgs) (map[string]any, string) {
	text, blocks, problem := messageContent(a)
	if problem != "" {
		return nil, problem
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[a.get("channel")]
	if c == nil {
		return nil, "channel_not_found"
	}
	m := c.find(a.get("ts"))
	if m == nil {
		return nil, "message_not_found"
	}
	if m.User != s.botID {
		return nil, "cant_update_message"
	}
	m.Text, m.Blocks, m.Edited = text, blocks, s.clock()
	return map[string]any{"channel": c.id, "ts": m.TS, "text": m.Text, "message": s.messageJSON(m)}, ""
}

func (c *channel) find(ts string) *Message {
	for _, m := range c.messages {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

// conversationsOpen opens (or resumes) the DM with one person; several
// users would make a multi-person DM, which the portal never asks for.
func (s *Server) conversationsOpen(a apiArgs) (map[string]any, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	users := strings.Split(a.get("users"), ",")
	if a.get("users") == "" {
		return nil, "users_list_not_supplied"
	}
	if len(users) > 1 {
		return nil, "not_supported"
	}
	u := s.users[users[0]]
	switch {
	case u == nil:
		return nil, "user_not_found"
	case u.Deleted:
		return nil, "user_disabled"
	case u.Bot:
		return nil, "cannot_dm_bot"
	}
	already := s.imLocked(u.ID, false) != ""
	id := s.imLocked(u.ID, true)
	return map[string]any{"channel": map[string]any{"id": id}, "no_op": already, "already_open": already}, ""
}

// viewsOpen exchanges a trigger for a modal: invalid_trigger_id (unknown),
// exchanged_trigger_id (used before), expired_trigger_id (older than 3 s);
// the view must be a valid modal (views.open reference, "Errors").
func (s *Server) viewsOpen(a apiArgs) (map[string]any, string) {
	raw := a.get("view")
	if raw == "" {
		return nil, "invalid_arguments"
	}
	view, problem := parseModal([]byte(raw))
	if problem != "" {
		return map[string]any{"response_metadata": map[string]any{"messages": []string{"[ERROR] " + problem}}}, "invalid_arguments"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.triggers[a.get("trigger_id")]
	switch {
	case t == nil:
		return nil, "invalid_trigger_id"
	case t.used:
		return nil, "exchanged_trigger_id"
	case s.clock().Sub(t.issued) > TriggerLifetime:
		return nil, "expired_trigger_id"
	}
	t.used = true
	view.ID, view.User, view.JSON = s.nextIDLocked("V"), t.user, json.RawMessage(raw)
	s.views[view.ID] = view
	return map[string]any{"view": s.viewJSON(view, nil)}, ""
}

// viewJSON is the view as Slack echoes it: the request's fields plus id,
// team_id, state and hash.
func (s *Server) viewJSON(v *View, state map[string]any) map[string]any {
	var out map[string]any
	json.Unmarshal(v.JSON, &out)
	out["id"], out["team_id"], out["hash"] = v.ID, s.opts.TeamID, v.ID+".hash"
	out["app_id"], out["bot_id"] = "A0PORTAL", "B"+s.botID[1:]
	out["private_metadata"], out["callback_id"] = v.PrivateMetadata, v.CallbackID
	if state == nil {
		state = map[string]any{}
	}
	out["state"] = map[string]any{"values": state}
	return out
}
