// Package tailnetfake is a faithful fake of the Tailscale control API (v2),
// served over real HTTP, for tests and for `portal demo`.
//
// It speaks what tailscale.com/client/tailscale/v2 sends: the policy file
// (GET/POST /api/v2/tailnet/{tailnet}/acl with HuJSON or JSON, ETag and
// If-Match, 412 on a stale ETag), /acl/validate, users, devices, and the OAuth
// client-credentials token endpoint. Errors are JSON objects with a
// "message" field, which is what the client's APIError decodes.
//
// Test hooks let a test hand-edit the policy (SetPolicy), land an edit
// between a write's If-Match check and its comparison (BeforeWrite), inject
// failures (FailNext, RateLimitNext) and count what happened (Writes, Calls).
package tailnetfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
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
	// OAuthClients maps OAuth client IDs to their secrets.
	OAuthClients map[string]string
	// Policy is the initial policy file text (HuJSON), stored as is. When
	// nil, the tailnet starts with Tailscale's default policy, which
	// `If-Match: ts-default` matches until the first write.
	Policy []byte
	// Clock returns the current time (token expiry, creation times).
	// Default time.Now.
	Clock func() time.Time
}

// Server is a fake Tailscale control API. It implements http.Handler and is
// safe for concurrent use. Create it with [New] or [Start].
type Server struct {
	tailnet      string
	apiKeys      map[string]bool
	oauthClients map[string]string
	clock        func() time.Time
	mux          *http.ServeMux

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
}

type accessToken struct {
	clientID string
	scope    string
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
		oauthClients: make(map[string]string),
		clock:        opts.Clock,
		tokens:       make(map[string]accessToken),
		calls:        make(map[string]int),
		nextID:       1000,
	}
	if s.tailnet == "" {
		s.tailnet = "example.com"
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	for _, k := range opts.APIKeys {
		s.apiKeys[k] = true
	}
	for id, secret := range opts.OAuthClients {
		s.oauthClients[id] = secret
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // returns http.ErrServerClosed on close
	var once sync.Once
	closeFn := func() { once.Do(func() { hs.Close() }) }
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
	api := map[string]http.HandlerFunc{
		RouteGetPolicy:      s.getPolicy,
		RouteSetPolicy:      s.setPolicy,
		RouteValidatePolicy: s.validatePolicy,
		RouteListDevices:    s.listDevices,
		RouteGetDevice:      s.getDevice,
		RouteDeleteDevice:   s.deleteDevice,
		RouteListUsers:      s.listUsers,
		RouteGetUser:        s.getUser,
	}
	for pattern, h := range api {
		s.mux.Handle(pattern, s.apiHandler(pattern, h))
	}
	s.mux.Handle(RouteUnknown, s.apiHandler(RouteUnknown, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	}))
	s.mux.HandleFunc(RouteOAuthToken, func(w http.ResponseWriter, r *http.Request) {
		s.count(RouteOAuthToken)
		s.oauthToken(w, r)
	})
	s.mux.HandleFunc("GET /{$}", s.page)
}

// apiHandler wraps an API route: it counts the call, applies injected
// failures, authenticates, and checks the tailnet named in the path.
func (s *Server) apiHandler(pattern string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count(pattern)
		if s.injectFailure(w) {
			return
		}
		if msg, ok := s.authenticate(r); !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="api"`)
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		if t := r.PathValue("tailnet"); t != "" && t != "-" && !strings.EqualFold(t, s.tailnet) {
			writeError(w, http.StatusNotFound, "tailnet not found")
			return
		}
		h(w, r)
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

// authenticate accepts an API key or a live OAuth access token, either as
// the username of HTTP basic auth (password empty) or as a bearer token —
// the two forms the real API documents.
func (s *Server) authenticate(r *http.Request) (msg string, ok bool) {
	var cred string
	if user, _, basic := r.BasicAuth(); basic {
		cred = user
	} else if v, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found {
		cred = strings.TrimSpace(v)
	}
	if cred == "" {
		return "API token required", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apiKeys[cred] {
		return "", true
	}
	tok, found := s.tokens[cred]
	if !found {
		return "API token invalid", false
	}
	if !s.clock().Before(tok.expires) {
		return "API token expired", false
	}
	return "", true
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
// text.
func (s *Server) SetPolicy(text []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.storeLocked(text)
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
	User   string   `json:"user,omitempty"`
	Errors []string `json:"errors"`
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
