// Package pagerdutyfake is a simulated PagerDuty account served over real
// HTTP, for tests and for `portal demo`.
//
// It speaks the parts of the PagerDuty REST API v2 that an on-call lookup
// uses, in the shapes the API reference documents
// (https://developer.pagerduty.com/api-reference, source
// github.com/PagerDuty/api-schema reference/REST/openapiv3.json):
//
//   - GET /oncalls ("List all of the on-calls") with time_zone, limit,
//     offset, total, include[], user_ids[], escalation_policy_ids[],
//     schedule_ids[], since, until and earliest;
//   - GET /schedules/{id} ("Get a schedule");
//   - GET /users/{id} ("Get a user").
//
// Lists use classic pagination (limit, offset, more, total; "Pagination",
// developer.pagerduty.com/docs/rest-api-v2/pagination). Requests must carry
// `Authorization: Token token=…` ("Authentication"); errors are the
// documented error object {"error":{"message","code","errors"}} ("Errors");
// an injected rate limit answers 429 with the ratelimit-limit,
// ratelimit-remaining and ratelimit-reset headers and the body
// {"error":{"message":"Rate Limit Exceeded","code":2020}} ("REST API Rate
// Limits").
//
// The account holds users, schedules (each the target of one escalation
// rule), on-call shifts and overrides. Tests change it with [Server.PutOnCall],
// [Server.EndShift], [Server.Override] and inject failures with
// [Server.SetFault]; the clock is injectable so shifts end in tests. GET /
// is a page for the demo to put a user on call and to end a shift now.
package pagerdutyfake

import (
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Routes, as counted by [Server.Calls]: the method and path patterns of the
// real API.
const (
	RouteListOnCalls = "GET /oncalls"
	RouteGetSchedule = "GET /schedules/{id}"
	RouteGetUser     = "GET /users/{id}"
)

// Accept is the media type that selects version 2 of the REST API
// ("Versioning": header-based versioning).
const Accept = "application/vnd.pagerduty+json;version=2"

// Options configures a [Server].
type Options struct {
	// Tokens are the accepted REST API keys (account or user API tokens).
	Tokens []string
	// TimeZone is the account's time zone, in which times are rendered
	// when a request names none. Default "Etc/UTC".
	TimeZone string
	// Subdomain names the account in html_url links. Default "example".
	Subdomain string
	// Clock returns the current time. Default time.Now.
	Clock func() time.Time
}

// Server is a simulated PagerDuty account. It implements http.Handler and
// is safe for concurrent use. Create it with [New] or [Start].
type Server struct {
	tokens    map[string]bool
	location  *time.Location
	subdomain string
	clock     func() time.Time
	mux       *http.ServeMux

	mu        sync.Mutex
	users     map[string]*User
	schedules map[string]*Schedule
	shifts    []*shift
	overrides []*shift
	nextID    int
	calls     map[string]int
	requests  []Request
	fault     Fault
}

// maxLoggedRequests bounds the request log of a long-running demo.
const maxLoggedRequests = 1000

// Request is one API request as the fake received it.
type Request struct {
	Route         string
	Query         string // the raw query string
	Accept        string
	Authorization string
}

// New returns a simulated account configured by opts.
func New(opts Options) *Server {
	s := &Server{
		tokens:    make(map[string]bool),
		subdomain: opts.Subdomain,
		clock:     opts.Clock,
		users:     make(map[string]*User),
		schedules: make(map[string]*Schedule),
		calls:     make(map[string]int),
	}
	for _, t := range opts.Tokens {
		s.tokens[t] = true
	}
	if s.subdomain == "" {
		s.subdomain = "example"
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	tz := opts.TimeZone
	if tz == "" {
		tz = "Etc/UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	s.location = loc
	s.routes()
	return s
}

// Start starts a simulated account on 127.0.0.1 at a free port. It returns
// the server, its base URL (for PAGERDUTY_API_URL) and a function that
// shuts the listener down.
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

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	api := map[string]http.HandlerFunc{
		RouteListOnCalls: s.listOnCalls,
		RouteGetSchedule: s.getSchedule,
		RouteGetUser:     s.getUser,
	}
	for pattern, h := range api {
		s.mux.Handle(pattern, s.apiHandler(pattern, h))
	}
	s.pageRoutes(s.mux)
}

// apiHandler wraps an API route: it records the call, applies an injected
// fault and authenticates.
func (s *Server) apiHandler(pattern string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fault := s.record(pattern, r)
		if fault.apply(w, r) {
			return
		}
		if !s.authenticated(r) {
			// "Authentication": a request that cannot be authenticated gets
			// 401; "Errors": code 2006 is "Authentication failed".
			writeError(w, http.StatusUnauthorized, 2006, "Authentication failed")
			return
		}
		h(w, r)
	})
}

// record counts the call, logs the request and takes one use of the
// injected fault, under the lock.
func (s *Server) record(route string, r *http.Request) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[route]++
	if len(s.requests) >= maxLoggedRequests {
		s.requests = slices.Delete(s.requests, 0, len(s.requests)-maxLoggedRequests+1)
	}
	s.requests = append(s.requests, Request{
		Route: route, Query: r.URL.RawQuery,
		Accept: r.Header.Get("Accept"), Authorization: r.Header.Get("Authorization"),
	})
	return s.takeFaultLocked()
}

// authenticated checks the "Authorization: Token token=…" header, the format
// the "Authentication" page says must be followed precisely.
func (s *Server) authenticated(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Token token=")
	return ok && s.tokens[token]
}

// Calls returns how many requests each route received.
func (s *Server) Calls(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[route]
}

// Requests returns the last API requests received (at most 1000), oldest
// first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// errorObject is the documented error response ("Errors").
type errorObject struct {
	Error struct {
		Message string   `json:"message"`
		Code    int      `json:"code"`
		Errors  []string `json:"errors,omitempty"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status, code int, message string, details ...string) {
	var body errorObject
	body.Error.Message = message
	body.Error.Code = code
	body.Error.Errors = details
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the answer failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
