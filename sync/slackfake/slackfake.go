// Package slackfake is a simulated Slack workspace served over real HTTP,
// for tests and for `portal demo`.
//
// It is both sides of a Slack app's conversation:
//   - the Web API methods the portal calls (users.info,
//     users.lookupByEmail, chat.postMessage, chat.update,
//     conversations.open, views.open, auth.test) under /api/, in Slack's
//     shapes: HTTP 200 with {"ok":false,"error":"…"} for API errors,
//     missing_scope with needed/provided, 429 with Retry-After when a test
//     asks for one; the bot token is checked (Authorization: Bearer xoxb-…,
//     or the token form field);
//   - the requests Slack sends to the app: slash commands
//     (application/x-www-form-urlencoded) and interactions (a payload form
//     field holding JSON: block_actions, view_submission), signed with the
//     signing secret (X-Slack-Signature, X-Slack-Request-Timestamp), and
//     the response_url the app answers on.
//
// GET / is a page showing each person's channel messages, direct messages,
// ephemeral answers and open modal, with working buttons and forms and a box
// to type /access as anyone.
//
// Documentation followed (cited again where it matters):
//   - Web API basics, errors and tokens: https://api.slack.com/web
//   - Verifying requests from Slack:
//     https://api.slack.com/authentication/verifying-requests-from-slack
//   - Slash commands: https://api.slack.com/interactivity/slash-commands
//   - Handling user interaction: https://api.slack.com/interactivity/handling
//   - Interaction payloads:
//     https://docs.slack.dev/reference/interaction-payloads/block_actions-payload,
//     https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload
//   - Methods: https://docs.slack.dev/reference/methods/users.info,
//     …/users.lookupByEmail, …/chat.postMessage, …/chat.update,
//     …/conversations.open, …/views.open
//   - Rate limits: https://docs.slack.dev/apis/web-api/rate-limits
package slackfake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultScopes are the bot scopes the portal's Slack app asks for.
var DefaultScopes = []string{"commands", "chat:write", "users:read", "users:read.email", "im:write"}

// Options configures a [Server].
type Options struct {
	// BotToken is the bot token the Web API accepts (xoxb-…). Required.
	BotToken string
	// Scopes are the token's scopes; nil means DefaultScopes.
	Scopes []string
	// SigningSecret signs the requests sent to the portal. Required.
	SigningSecret string
	// TeamID and TeamDomain name the workspace (default T0PORTAL, "portal").
	TeamID, TeamDomain string
	// Command is the slash command's name (default "/access").
	Command string
	// CommandURL and InteractionURL are the portal's request URLs (the slash
	// command's and the app's interactivity URL). They may be set later with
	// SetPortal.
	CommandURL, InteractionURL string
	// Clock returns the current time: timestamps, trigger and response_url
	// expiry, signatures. Default time.Now.
	Clock func() time.Time
	// HTTPClient sends requests to the portal. Default: a client with
	// Slack's 3-second timeout.
	HTTPClient *http.Client
}

// User is a member of the workspace.
type User struct {
	ID       string
	Name     string // handle, e.g. "alice"
	RealName string
	Email    string
	Deleted  bool
	Bot      bool
}

// Message is a message in a channel or DM as the workspace stores it.
type Message struct {
	Channel string
	TS      string
	// User is the poster: the bot's user id for messages the portal posted.
	User   string
	Text   string
	Blocks json.RawMessage
	// Edited is when chat.update last replaced it (zero: never).
	Edited time.Time
}

// Ephemeral is a message only one person sees: the answer to a slash
// command or something posted to a response_url.
type Ephemeral struct {
	User    string
	Channel string
	Text    string
	At      time.Time
}

// View is a modal open for a person.
type View struct {
	ID              string
	User            string
	CallbackID      string
	PrivateMetadata string
	Title           string
	// JSON is the view as views.open received it.
	JSON json.RawMessage
	// Errors are the per-block errors the portal answered the last
	// submission with.
	Errors map[string]string
}

type channel struct {
	id, name string
	imUser   string // for a DM: the person (the other member is the bot)
	messages []*Message
}

type trigger struct {
	user   string
	issued time.Time
	used   bool
}

type responseURL struct {
	user, channel, messageTS string
	issued                   time.Time
	uses                     int
}

// Server is a simulated Slack workspace. It implements http.Handler and is
// safe for concurrent use.
type Server struct {
	opts   Options
	clock  func() time.Time
	scopes []string
	client *http.Client
	mux    *http.ServeMux
	botID  string // the bot user's id

	mu          sync.Mutex
	baseURL     string
	users       map[string]*User
	userOrder   []string
	channels    map[string]*channel
	chanOrder   []string
	triggers    map[string]*trigger
	responses   map[string]*responseURL
	views       map[string]*View // by view id
	ephemerals  []Ephemeral
	seq         int64
	lastTS      time.Time
	tsSeq       int
	calls       map[string]int
	rateLimits  map[string][]int // method → queued Retry-After seconds
	commandURL  string
	interactURL string
}

// New returns a workspace with no users and one channel, #access-requests.
// It panics without a bot token or signing secret.
func New(opts Options) *Server {
	if opts.BotToken == "" || opts.SigningSecret == "" {
		panic("slackfake: Options.BotToken and Options.SigningSecret are required")
	}
	s := &Server{
		opts:        opts,
		clock:       opts.Clock,
		scopes:      opts.Scopes,
		client:      opts.HTTPClient,
		users:       map[string]*User{},
		channels:    map[string]*channel{},
		triggers:    map[string]*trigger{},
		responses:   map[string]*responseURL{},
		views:       map[string]*View{},
		calls:       map[string]int{},
		rateLimits:  map[string][]int{},
		commandURL:  opts.CommandURL,
		interactURL: opts.InteractionURL,
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.scopes == nil {
		s.scopes = DefaultScopes
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 3 * time.Second}
	}
	s.opts.TeamID = cmp.Or(opts.TeamID, "T0PORTAL")
	s.opts.TeamDomain = cmp.Or(opts.TeamDomain, "portal")
	s.opts.Command = cmp.Or(opts.Command, "/access")
	s.botID = s.AddUser(User{Name: "portal", RealName: "Access portal", Bot: true})
	s.AddChannel("access-requests")
	s.mux = http.NewServeMux()
	s.apiRoutes(s.mux)
	s.portalRoutes(s.mux)
	s.pageRoutes(s.mux)
	return s
}

// Start serves s on a loopback port until the returned stop function is
// called; it returns the base URL (the Web API is under base+"/api/").
func Start(opts Options) (s *Server, baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("listening: %w", err)
	}
	s = New(opts)
	baseURL = "http://" + ln.Addr().String()
	s.SetBaseURL(baseURL)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	return s, baseURL, func() { srv.Close() }, nil
}

// ServeHTTP serves the Web API, the response URLs and the page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetBaseURL tells the server its own URL, used in the response_url it
// sends. Without it the URL is taken from each request's Host.
func (s *Server) SetBaseURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.baseURL = strings.TrimSuffix(u, "/")
}

// SetPortal sets the portal's slash command and interactivity URLs.
func (s *Server) SetPortal(commandURL, interactionURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commandURL, s.interactURL = commandURL, interactionURL
}

// BotUserID is the app's bot user.
func (s *Server) BotUserID() string { return s.botID }

func (s *Server) nextIDLocked(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%07X", prefix, s.seq)
}

// AddUser adds a member and returns their id (U…, or the given ID).
func (s *Server) AddUser(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = s.nextIDLocked("U")
	}
	if s.users[u.ID] == nil {
		s.userOrder = append(s.userOrder, u.ID)
	}
	s.users[u.ID] = &u
	return u.ID
}

// SetDeleted deactivates (or reactivates) a member.
func (s *Server) SetDeleted(userID string, deleted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[userID]; u != nil {
		u.Deleted = deleted
	}
}

// Users returns the members, bot included, in the order they were added.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.userOrder))
	for _, id := range s.userOrder {
		out = append(out, *s.users[id])
	}
	return out
}

// UserByEmail returns the member with that email (case-insensitive).
func (s *Server) UserByEmail(email string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByEmailLocked(email)
	if u == nil {
		return User{}, false
	}
	return *u, true
}

func (s *Server) userByEmailLocked(email string) *User {
	for _, id := range s.userOrder {
		if u := s.users[id]; strings.EqualFold(u.Email, email) && email != "" {
			return u
		}
	}
	return nil
}

// AddChannel adds a public channel the bot is a member of and returns its
// id (C…).
func (s *Server) AddChannel(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.channels {
		if c.name == name {
			return c.id
		}
	}
	id := s.nextIDLocked("C")
	s.channels[id] = &channel{id: id, name: name}
	s.chanOrder = append(s.chanOrder, id)
	return id
}

// ChannelID returns the id of a public channel by name, or "".
func (s *Server) ChannelID(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.channels {
		if c.name == strings.TrimPrefix(name, "#") {
			return c.id
		}
	}
	return ""
}

// Messages returns the messages of a channel or DM id, oldest first.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	if c == nil {
		return nil
	}
	out := make([]Message, 0, len(c.messages))
	for _, m := range c.messages {
		out = append(out, *m)
	}
	return out
}

// DirectMessages returns the messages the bot sent a person in their DM
// with the app, oldest first.
func (s *Server) DirectMessages(userID string) []Message {
	s.mu.Lock()
	id := s.imLocked(userID, false)
	s.mu.Unlock()
	if id == "" {
		return nil
	}
	return s.Messages(id)
}

// Ephemerals returns what a person was shown ephemerally, oldest first.
func (s *Server) Ephemerals(userID string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ephemeral
	for _, e := range s.ephemerals {
		if e.User == userID {
			out = append(out, e)
		}
	}
	return out
}

// OpenView returns the modal open for a person, if any (the latest).
func (s *Server) OpenView(userID string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.openViewLocked(userID)
	if v == nil {
		return View{}, false
	}
	return *v, true
}

func (s *Server) openViewLocked(userID string) *View {
	var found *View
	for _, v := range s.views {
		if v.User == userID && (found == nil || v.ID > found.ID) {
			found = v
		}
	}
	return found
}

// RateLimitNext makes the next call of a Web API method (e.g.
// "chat.postMessage") answer 429 with Retry-After: retryAfter (whole
// seconds, at least 1). Calls queue up.
func (s *Server) RateLimitNext(method string, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits[method] = append(s.rateLimits[method], max(1, int(retryAfter.Seconds())))
}

// Calls returns how many times a Web API method was called.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

func (s *Server) hasScope(scope string) bool { return slices.Contains(s.scopes, scope) }

// imLocked returns the id of a person's DM with the app, creating it when
// create is set.
func (s *Server) imLocked(userID string, create bool) string {
	for _, id := range s.chanOrder {
		if s.channels[id].imUser == userID {
			return id
		}
	}
	if !create {
		return ""
	}
	id := s.nextIDLocked("D")
	s.channels[id] = &channel{id: id, imUser: userID}
	s.chanOrder = append(s.chanOrder, id)
	return id
}

// newTSLocked returns a message timestamp: seconds.microseconds, unique in
// the workspace like Slack's.
func (s *Server) newTSLocked() string {
	now := s.clock()
	if !now.After(s.lastTS) {
		now = s.lastTS.Add(time.Microsecond)
	}
	s.lastTS = now
	return fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
}
