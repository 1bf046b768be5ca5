package tailnet

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	tsclient "tailscale.com/client/tailscale/v2"
)

// BusyError is the control API asking to be left alone for a while: a 429
// (or 503) answer, with how long its Retry-After header asked to wait.
type BusyError struct {
	Status     int
	RetryAfter time.Duration // 0 when the answer named no wait
	Err        error
}

func (e *BusyError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%v (the tailnet API asks to retry after %s)", e.Err, e.RetryAfter)
	}
	return e.Err.Error()
}

func (e *BusyError) Unwrap() error { return e.Err }

// RetryAfter returns the wait a busy control API asked for in err, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var b *BusyError
	if errors.As(err, &b) && b.RetryAfter > 0 {
		return b.RetryAfter, true
	}
	return 0, false
}

// retryAfterTransport remembers the Retry-After of the last 429 or 503
// answer: the API client turns those answers into errors without headers.
type retryAfterTransport struct {
	base http.RoundTripper
	last atomic.Int64 // nanoseconds
	now  func() time.Time
}

func (t *retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err == nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		t.last.Store(int64(parseRetryAfter(resp.Header.Get("Retry-After"), t.now())))
	}
	return resp, err
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (RFC 9110, section 10.2.3). Anything else is no wait.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return max(time.Duration(secs)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// busy turns a 429 or 503 answer of the API client into a *BusyError
// carrying the wait the answer asked for; other errors pass unchanged.
func (t *Client) busy(err error) error {
	var apiErr tsclient.APIError
	if !errors.As(err, &apiErr) || (apiErr.Status != http.StatusTooManyRequests && apiErr.Status != http.StatusServiceUnavailable) {
		return err
	}
	return &BusyError{Status: apiErr.Status, RetryAfter: time.Duration(t.retry.last.Swap(0)), Err: err}
}
