// Package tailnetfake is a faithful fake of the Tailscale control API (v2),
// served over real HTTP, for tests and for `portal demo`.
//
// It speaks what tailscale.com/client/tailscale/v2 sends: the policy file
// (GET/POST /api/v2/tailnet/{tailnet}/acl with HuJSON or JSON, ETag and
// If-Match, 412 on a stale ETag, the policy's own "tests" run on every write
// and validate), /acl/validate (with warnings when configured), users,
// devices (tagged ones too), device posture attributes with real expiry, the
// configuration audit log, and the OAuth client-credentials token endpoint
// with scopes enforced on every route. Errors are JSON objects with a
// "message" field, which is what the client's APIError decodes. Policy
// changes are sent to a configured webhook, signed as Tailscale signs them.
//
// Sources: the Tailscale API reference (https://tailscale.com/api, and its
// predecessor api.md in github.com/tailscale/tailscale), "OAuth clients"
// (https://tailscale.com/kb/1215/oauth-clients), "Webhooks"
// (https://tailscale.com/kb/1213/webhooks and docs/webhooks/example.go in
// github.com/tailscale/tailscale), "Configuration audit logging"
// (https://tailscale.com/kb/1203/audit-logging), "Device posture"
// (https://tailscale.com/kb/1288/device-posture), and the client
// tailscale.com/client/tailscale/v2 v2.9.0.
//
// Test hooks let a test hand-edit the policy (SetPolicy), push a whole
// policy from outside (ReplacePolicy), land an edit between a write's
// If-Match check and its comparison (BeforeWrite), inject failures
// (FailNext, RateLimitNext), deliver pending webhooks now (FlushWebhooks) and
// count what happened (Writes, Calls).
package tailnetfake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/accessportal/portal/static"
)

// Routes, as counted by [Server.Calls]. They are the method and path
// patterns of the real API.
const (
	RouteGetPolicy      = "GET /api/v2/tailnet/{tailnet}/acl"
	RouteSetPolicy      = "POST /api/v2/tailnet/{tailnet}/acl"
	RouteValidatePolicy = "POST /api/v2/tailnet/{tailnet}/acl/validate"
	RouteListDevices    = "GET /api/v2/tailnet/{tailnet}/devices"
	RouteGetDevice      = "GET /api/v2/device/{id}"
	RouteDeleteDevice   = "DELETE /api/v2/device/{id}"
	RouteListUsers      = "GET /api/v2/tailnet/{tailnet}/users"
	RouteGetUser        = "GET /api/v2/users/{id}"
	RouteOAuthToken     = "POST /api/v2/oauth/token"
	// RouteGetAttributes … RouteConfigLog are the device posture attribute
	// and configuration audit log routes.
	RouteGetAttributes   = "GET /api/v2/device/{id}/attributes"
	RouteSetAttribute    = "POST /api/v2/device/{id}/attributes/{key}"
	RouteDeleteAttribute = "DELETE /api/v2/device/{id}/attributes/{key}"
	RouteConfigLog       = "GET /api/v2/tailnet/{tailnet}/logging/configuration"
	// RouteUnknown counts requests under /api/v2/ that match no route.
	RouteUnknown = "/api/v2/"
)

// Options configures a [Server].
type Options struct {
	// Tailnet is the tailnet's name, e.g. "example.com". Requests may name
	// it or use "-" (the credential's own tailnet). Default "example.com".
	Tailnet string
	// APIKeys are the accepted API access tokens (e.g. "tskey-api-…").
	APIKeys []string
	// OAuthClients maps OAuth client IDs to their secrets. Such a client
	// holds the legacy scope "all"; use ScopedClients for least privilege.
	OAuthClients map[string]string
	// ScopedClients are OAuth clients created with the given scopes.
	ScopedClients []OAuthClient
	// Owner is the login of the admin who created the API keys: the actor
	// of their writes in the configuration log and in webhook events.
	// Default "admin@" + Tailnet.
	Owner string
	// Warnings are what /acl/validate reports about a valid policy (for
	// example groups that SCIM does not sync). They never refuse a write.
	Warnings []Warning
	// Webhook, when set, receives policyUpdate events.
	Webhook *Webhook
	// Policy is the initial policy file text (HuJSON), stored as is. When
	// nil, the tailnet starts with Tailscale's default policy, which
	// `If-Match: ts-default` matches until the first write.
	Policy []byte
	// Clock returns the current time (token expiry, creation times,
	// posture attribute expiry, log and event times). Default time.Now.
	Clock func() time.Time
	// Addr is where Start listens ("127.0.0.1:9002"); empty means
	// 127.0.0.1 at a free port.
	Addr string
}

// Server is a fake Tailscale control API. It implements http.Handler and is
// safe for concurrent use. Create it with [New] or [Start].
type Server struct {
	tailnet      string
	owner        string
	apiKeys      map[string]bool
	oauthClients map[string]OAuthClient
	clock        func() time.Time
	mux          *http.ServeMux
	hooks        *webhookSender

	mu          sync.Mutex
	policy      []byte
	etag        string // quoted, as sent in the ETag header
	isDefault   bool   // the policy is the untouched default
	writes      int
	tokens      map[string]accessToken
	users       []User
	devices     []Device
	nextID      int64
	calls       map[string]int
	beforeWrite func()
	failLeft    int
	failStatus  int
	limitLeft   int
	warnings    []Warning
	attributes  map[string]map[string]attribute // node ID → key → attribute
	configLog   []ConfigLogEntry
}

type accessToken struct {
	clientID string
	scopes   []string
	expires  time.Time
}

// tokenLifetime is how long an OAuth access token lives (the real API's
// expires_in is 3600).
const tokenLifetime = time.Hour

// New returns a fake control API configured by opts.
func New(opts Options) *Server {
	s := &Server{
		tailnet:      opts.Tailnet,
		apiKeys:      make(map[string]bool),
		oauthClients: make(map[string]OAuthClient),
		clock:        opts.Clock,
		tokens:       make(map[string]accessToken),
		calls:        make(map[string]int),
		nextID:       1000,
		owner:        opts.Owner,
		warnings:     slices.Clone(opts.Warnings),
		attributes:   make(map[string]map[string]attribute),
	}
	if s.tailnet == "" {
		s.tailnet = "example.com"
	}
	if s.owner == "" {
		s.owner = "admin@" + s.tailnet
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	for _, k := range opts.APIKeys {
		s.apiKeys[k] = true
	}
	for id, secret := range opts.OAuthClients {
		s.oauthClients[id] = OAuthClient{ID: id, Secret: secret, Scopes: []string{"all"}}
	}
	for _, c := range opts.ScopedClients {
		c.Scopes = slices.Clone(c.Scopes)
		s.oauthClients[c.ID] = c
	}
	if opts.Webhook != nil {
		s.hooks = newWebhookSender(*opts.Webhook, s.tailnet, s.clock)
	}
	if opts.Policy == nil {
		s.policy = []byte(DefaultPolicy)
		s.isDefault = true
	} else {
		s.policy = clone(opts.Policy)
	}
	s.etag = etagOf(s.policy)
	s.routes()
	return s
}

// Start starts a fake control API on 127.0.0.1 at a free port. It returns
// the server, its base URL (for the client's BaseURL or TAILSCALE_API_URL),
// and a function that shuts the listener down.
func Start(opts Options) (*Server, string, func(), error) {
	s := New(opts)
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", nil, fmt.Errorf("listening for the fake tailnet: %w", err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // returns http.ErrServerClosed on close
	var once sync.Once
	closeFn := func() {
		once.Do(func() {
			hs.Close()
			if s.hooks != nil {
				s.hooks.stop()
			}
		})
	}
	return s, "http://" + ln.Addr().String(), closeFn, nil
}

// Tailnet returns the tailnet's name.
func (s *Server) Tailnet() string { return s.tailnet }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	// Each route and the scope a token needs for it ("OAuth clients",
	// section Scopes: policy_file, devices:core,
	// devices:posture_attributes, logs:configuration:read, users:read).
	api := []struct {
		pattern, scope string
		h              http.HandlerFunc
	}{
		{RouteGetPolicy, "policy_file:read", s.getPolicy},
		{RouteSetPolicy, "policy_file", s.setPolicy},
		{RouteValidatePolicy, "policy_file:read", s.validatePolicy},
		{RouteListDevices, "devices:core:read", s.listDevices},
		{RouteGetDevice, "devices:core:read", s.getDevice},
		{RouteDeleteDevice, "devices:core", s.deleteDevice},
		{RouteListUsers, "users:read", s.listUsers},
		{RouteGetUser, "users:read", s.getUser},
		{RouteGetAttributes, "devices:posture_attributes:read", s.getAttributes},
		{RouteSetAttribute, "devices:posture_attributes", s.setAttribute},
		{RouteDeleteAttribute, "devices:posture_attributes", s.deleteAttribute},
		{RouteConfigLog, "logs:configuration:read", s.getConfigLog},
	}
	for _, a := range api {
		s.mux.Handle(a.pattern, s.apiHandler(a.pattern, a.scope, a.h))
	}
	s.mux.Handle(RouteUnknown, s.apiHandler(RouteUnknown, "", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	}))
	s.mux.HandleFunc(RouteOAuthToken, func(w http.ResponseWriter, r *http.Request) {
		s.count(RouteOAuthToken)
		s.oauthToken(w, r)
	})
	s.mux.HandleFunc("GET /{$}", s.page)
	s.mux.Handle("GET /portal.css", static.StyleHandler())
	csrf := http.NewCrossOriginProtection()
	s.mux.Handle("POST /policy", csrf.Handler(http.HandlerFunc(s.pagePolicy)))
}

// apiHandler wraps an API route: it counts the call, applies injected
// failures, authenticates, checks the token's scopes against the route's
// scope, and checks the tailnet named in the path. The caller is put in the
// request's context for the configuration log and webhook events.
func (s *Server) apiHandler(pattern, scope string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count(pattern)
		if s.injectFailure(w) {
			return
		}
		who, msg, ok := s.authenticate(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="api"`)
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		if scope != "" && !grants(who.scopes, scope) {
			// The real API's answer to a token without the route's scope
			// (github.com/tailscale/tailscale issue 15969).
			writeError(w, http.StatusForbidden, notPermitted)
			return
		}
		if t := r.PathValue("tailnet"); t != "" && t != "-" && !strings.EqualFold(t, s.tailnet) {
			writeError(w, http.StatusNotFound, "tailnet not found")
			return
		}
		h(w, r.WithContext(withCaller(r.Context(), who.actor)))
	})
}

func (s *Server) count(route string) {
	s.mu.Lock()
	s.calls[route]++
	s.mu.Unlock()
}

// injectFailure answers the request with an injected failure, if one is due.
func (s *Server) injectFailure(w http.ResponseWriter) bool {
	s.mu.Lock()
	var status int
	switch {
	case s.limitLeft > 0:
		s.limitLeft--
		status = http.StatusTooManyRequests
	case s.failLeft > 0:
		s.failLeft--
		status = s.failStatus
	}
	s.mu.Unlock()
	switch {
	case status == 0:
		return false
	case status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		writeError(w, status, "rate limit exceeded, retry later")
	default:
		writeError(w, status, "simulated failure: "+strings.ToLower(http.StatusText(status)))
	}
	return true
}

// caller is who sent an API request: its scopes and its actor.
type caller struct {
	scopes []string
	actor  Actor
}

// authenticate accepts an API key or a live OAuth access token, either as
// the username of HTTP basic auth (password empty) or as a bearer token —
// the two forms the real API documents. An API key has full access
// ("Tailscale API": an access token has full permission).
func (s *Server) authenticate(r *http.Request) (who caller, msg string, ok bool) {
	var cred string
	if user, _, basic := r.BasicAuth(); basic {
		cred = user
	} else if v, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found {
		cred = strings.TrimSpace(v)
	}
	if cred == "" {
		return caller{}, "API token required", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apiKeys[cred] {
		return caller{scopes: []string{"all"}, actor: s.userActorLocked(s.owner)}, "", true
	}
	tok, found := s.tokens[cred]
	if !found {
		return caller{}, "API token invalid", false
	}
	if !s.clock().Before(tok.expires) {
		return caller{}, "API token expired", false
	}
	return caller{scopes: tok.scopes, actor: Actor{ID: tok.clientID, Type: "OAUTH_CLIENT", DisplayName: tok.clientID}}, "", true
}

// Policy returns the stored policy text and its ETag (quoted, as in the
// ETag header).
func (s *Server) Policy() (text []byte, etag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clone(s.policy), s.etag
}

// SetPolicy replaces the policy as a hand edit by someone else would: no
// validation, no If-Match, not counted by Writes. The ETag changes with the
// text; a change is recorded in the configuration log as an admin console
// edit by the owner and announced to the webhook.
func (s *Server) SetPolicy(text []byte) {
	s.mu.Lock()
	old := s.policy
	s.storeLocked(text)
	changed := !bytes.Equal(old, s.policy)
	actor := s.userActorLocked(s.owner)
	if changed {
		s.recordLocked("ADMIN_CONSOLE", actor, s.policyTarget(), "UPDATE", string(old), string(text))
	}
	s.mu.Unlock()
	if changed && s.hooks != nil {
		s.hooks.policyUpdate(old, text, actor.LoginName)
	}
}

// ReplacePolicy replaces the whole policy from outside, as a push from git
// (Tailscale's GitOps action) does: the text is validated and its tests are
// run like an API write (no If-Match), and on success it is stored, counted
// by Writes, recorded in the configuration log with actor as its author,
// and announced to the webhook. It returns the refusal, if any, in the real
// API's shape.
func (s *Server) ReplacePolicy(text []byte, actor string) error {
	return s.applyPolicy(text, "", s.userActor(actor), "API")
}

func (s *Server) storeLocked(text []byte) {
	s.policy = clone(text)
	s.etag = etagOf(s.policy)
	s.isDefault = false
}

// BeforeWrite sets a function that every policy POST calls after it has
// read its If-Match header and before it compares it with the current
// ETag, without holding the server's lock: f may call SetPolicy to land a
// concurrent edit. It stays set until replaced; nil removes it. (A hook
// that sets the same text every time leaves the ETag unchanged, so a
// client's retry after the 412 succeeds.)
func (s *Server) BeforeWrite(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeWrite = f
}

// FailNext makes the next n API requests (every route under /api/v2/ but the
// OAuth token endpoint) fail with status and a JSON message, before
// authentication.
func (s *Server) FailNext(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLeft, s.failStatus = n, status
}

// RateLimitNext makes the next n API requests answer 429 Too Many Requests
// with `Retry-After: 1` and a JSON message. It is applied before FailNext.
func (s *Server) RateLimitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitLeft = n
}

// Writes returns how many policy POSTs succeeded.
func (s *Server) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// Calls returns how many requests each route received (keys are the Route
// constants), including refused and failed ones.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// errorBody is the real API's error shape, decoded by the client's APIError.
type errorBody struct {
	Message string          `json:"message"`
	Data    []errorBodyData `json:"data,omitempty"`
}

type errorBodyData struct {
	User     string   `json:"user,omitempty"`
	Errors   []string `json:"errors,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// notPermitted is the real API's message for a token lacking the route's
// scope.
const notPermitted = "calling actor does not have enough permissions to perform this function"

type callerKey struct{}

func withCaller(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, callerKey{}, a)
}

func callerOf(ctx context.Context) Actor {
	a, _ := ctx.Value(callerKey{}).(Actor)
	return a
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"message":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n')) //nolint:errcheck // the client went away
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b)
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
