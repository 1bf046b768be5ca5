// Package pagerduty asks PagerDuty who is on call, for the portal's on-call
// auto-approval (CONTRACT.md, "On-call (PagerDuty)").
//
// It wraps github.com/PagerDuty/go-pagerduty: GET /oncalls ("List all of the
// on-calls", developer.pagerduty.com/api-reference; go-pagerduty
// ListOnCallsWithContext) for who is on call now, and GET /schedules/{id}
// ("Get a schedule"; GetScheduleWithContext) to check a catalog's schedule
// ids. Every lookup is bounded in time; answers are cached for a few
// seconds but never past the end of a shift they contain; concurrent
// lookups of the same schedules share one call.
package pagerduty

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of [Options].
const (
	// DefaultAPIURL is PagerDuty's REST API (the "servers" entry of the
	// REST API's OpenAPI description).
	DefaultAPIURL = "https://api.pagerduty.com"
	// DefaultTimeout bounds one lookup, every page and retry included.
	DefaultTimeout = 3 * time.Second
	// DefaultCacheTTL is how long an answer is reused.
	DefaultCacheTTL = 5 * time.Second
)

// Environment variables read by [OptionsFromEnv].
const (
	EnvToken  = "PAGERDUTY_API_TOKEN"
	EnvAPIURL = "PAGERDUTY_API_URL"
)

// ErrNoToken is returned by [New] without an API token.
var ErrNoToken = errors.New("no PagerDuty API token (" + EnvToken + ")")

// Options configures a [Client].
type Options struct {
	// Token is a REST API key, sent as "Authorization: Token token=…". A
	// read-only key is enough.
	Token string
	// APIURL is the REST API's base URL. Default DefaultAPIURL.
	APIURL string
	// Timeout bounds each lookup: PagerDuty unreachable, slow, rate
	// limiting beyond it or failing gives an error within it. Default
	// DefaultTimeout.
	Timeout time.Duration
	// CacheTTL is how long an answer is reused (never past the end of a
	// shift it contains). Default DefaultCacheTTL; negative disables the
	// cache.
	CacheTTL time.Duration
	// Clock returns the current time: the moment asked about, cache
	// expiry, shift ends, status times. Default time.Now.
	Clock func() time.Time
	// HTTPClient sends the requests. Default a client of its own.
	HTTPClient *http.Client
	// Registerer receives the metrics when not nil.
	Registerer prometheus.Registerer
	// Logger receives failures. Default slog.Default().
	Logger *slog.Logger
}

// OptionsFromEnv reads PAGERDUTY_API_TOKEN and PAGERDUTY_API_URL through
// getenv (os.Getenv in the application).
func OptionsFromEnv(getenv func(string) string) Options {
	return Options{Token: getenv(EnvToken), APIURL: getenv(EnvAPIURL)}
}

// Client answers on-call lookups. It is safe for concurrent use.
type Client struct {
	api     *pagerduty.Client
	timeout time.Duration
	ttl     time.Duration
	clock   func() time.Time
	sleep   func(context.Context, time.Duration) error
	metrics *metrics
	log     *slog.Logger

	mu       sync.Mutex
	cache    map[string]cachedAnswer
	inflight map[string]*lookup
	status   Status
}

// New returns a client configured by opts.
func New(opts Options) (*Client, error) {
	if opts.Token == "" {
		return nil, ErrNoToken
	}
	endpoint := strings.TrimRight(cmp.Or(opts.APIURL, DefaultAPIURL), "/")
	if !strings.HasPrefix(endpoint, "https://") && !strings.HasPrefix(endpoint, "http://") {
		return nil, fmt.Errorf("%s %q is not an http(s) URL", EnvAPIURL, opts.APIURL)
	}
	httpClient := opts.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	// go-pagerduty joins the endpoint and the path ("/oncalls?…"), so the
	// endpoint carries no trailing slash (client.go, WithAPIEndpoint and
	// doWithEndpoint).
	api := pagerduty.NewClient(opts.Token, pagerduty.WithAPIEndpoint(endpoint))
	api.HTTPClient = recorder{next: httpClient}
	c := &Client{
		api:      api,
		timeout:  cmp.Or(opts.Timeout, DefaultTimeout),
		ttl:      cmp.Or(opts.CacheTTL, DefaultCacheTTL),
		clock:    opts.Clock,
		sleep:    sleepContext,
		metrics:  newMetrics(opts.Registerer),
		log:      opts.Logger,
		cache:    make(map[string]cachedAnswer),
		inflight: make(map[string]*lookup),
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// Timeout returns the bound on one lookup.
func (c *Client) Timeout() time.Duration { return c.timeout }

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// recorder is the HTTP client handed to go-pagerduty. It notes the status,
// headers or transport error of each response in the request's context,
// because go-pagerduty's APIError keeps neither the headers (Retry-After,
// ratelimit-reset) nor the transport error (it formats it with %v).
type recorder struct{ next *http.Client }

type responseKey struct{}

// response is what recorder saw of the last response of one call.
type response struct {
	status    int
	header    http.Header
	transport error
}

func (r recorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.next.Do(req)
	if seen, ok := req.Context().Value(responseKey{}).(*response); ok {
		*seen = response{transport: err}
		if resp != nil {
			seen.status, seen.header = resp.StatusCode, resp.Header.Clone()
		}
	}
	return resp, err
}

// call runs one API request. A 429 is retried after the wait PagerDuty
// asks for (Retry-After, or ratelimit-reset: "the number of seconds until
// the limit is reset", REST API Rate Limits) when that wait ends before the
// lookup's deadline; every other failure is returned as an [*Error].
func (c *Client) call(ctx context.Context, f func(context.Context) error) error {
	for {
		seen := &response{}
		err := f(context.WithValue(ctx, responseKey{}, seen))
		if err == nil {
			c.metrics.call(OutcomeOK)
			return nil
		}
		e := c.classify(ctx, err, seen)
		c.metrics.call(e.Outcome)
		if e.Outcome == OutcomeRateLimited && e.RetryAfter >= 0 && c.fits(ctx, e.RetryAfter) {
			if c.sleep(ctx, e.RetryAfter) == nil {
				continue
			}
		}
		return e
	}
}

// fits reports whether waiting d still leaves time before ctx's deadline.
func (c *Client) fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d
}

// Status is PagerDuty's state for the dashboard.
type Status struct {
	// LastSuccess is when PagerDuty last answered a lookup.
	LastSuccess time.Time
	// LastError is the last failure in one line, and LastErrorAt its time.
	LastError   string
	LastErrorAt time.Time
}

// Up reports whether the last lookup succeeded (true before any lookup).
func (s Status) Up() bool {
	return s.LastErrorAt.IsZero() || s.LastSuccess.After(s.LastErrorAt)
}

// Status returns PagerDuty's state as the last lookups found it.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

func (c *Client) noteResult(err error) {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.status.LastSuccess = now
		c.metrics.lastSuccess.Set(float64(now.Unix()))
		return
	}
	c.status.LastError, c.status.LastErrorAt = err.Error(), now
	c.log.Warn("PagerDuty lookup failed", slog.String("error", err.Error()))
}
