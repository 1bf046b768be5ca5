package okta

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// callsKey carries a poll's call counter in the request context.
type callsKey struct{}

// transport counts every request to Okta, bounds each attempt, waits
// out 429s until X-Rate-Limit-Reset and retries 5xx and network errors with
// exponential backoff, as long as the total wait for one call stays within
// maxWait. Beyond that a 429 or network error becomes an error, and a 5xx is
// handed to the SDK, which reports it.
type transport struct {
	base           http.RoundTripper
	attemptTimeout time.Duration
	maxWait        time.Duration
	now            func() time.Time
	calls          atomic.Int64
	rateLimited    atomic.Int64 // 429 answers
	// refused is the status of the last answer when Okta refused the
	// credential (401 or 403), 0 since a success.
	refused atomic.Int64
}

// retryError is the transport's final error. It deliberately does not
// wrap the cause: the SDK retries io.EOF forever.
type retryError struct{ msg string }

func (e *retryError) Error() string { return e.msg }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	retryable := req.Method == http.MethodGet || req.Method == http.MethodHead
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		retryable = false
	}
	counter, _ := req.Context().Value(callsKey{}).(*atomic.Int64)
	var waited time.Duration
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		areq := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			areq = req.Clone(req.Context())
			areq.Body = body
		}
		t.calls.Add(1)
		if counter != nil {
			counter.Add(1)
		}
		ctx, cancel := context.WithTimeout(req.Context(), t.attemptTimeout)
		resp, err := t.base.RoundTrip(areq.WithContext(ctx))

		var wait time.Duration
		var why string
		usedBackoff := true
		switch {
		case err != nil:
			cancel()
			if req.Context().Err() != nil || !retryable {
				return nil, err
			}
			wait, why = backoff, err.Error()
		case resp.StatusCode == http.StatusTooManyRequests:
			t.rateLimited.Add(1)
			var ok bool
			if wait, ok = rateLimitWait(resp.Header, t.now()); ok {
				usedBackoff = false
			} else {
				wait = backoff
			}
			why = "rate limited (429)"
			if !retryable || waited+wait > t.maxWait {
				drainClose(resp.Body)
				cancel()
				return nil, &retryError{fmt.Sprintf("okta: rate limited (429) after %d attempts; the limit resets in %s, beyond the %s this call may wait",
					attempt, wait.Round(time.Millisecond), t.maxWait)}
			}
		case resp.StatusCode >= 500 && retryable && resp.StatusCode != http.StatusNotImplemented:
			wait, why = backoff, resp.Status
			if waited+wait > t.maxWait {
				resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
				return resp, nil // the SDK turns it into an error
			}
		default:
			t.noteCredential(resp.StatusCode)
			resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
			return resp, nil
		}
		if resp != nil {
			drainClose(resp.Body)
		}
		cancel()
		if waited+wait > t.maxWait {
			return nil, &retryError{fmt.Sprintf("okta: %s %s: giving up after %d attempts: %s", req.Method, req.URL.Path, attempt, why)}
		}
		slog.InfoContext(req.Context(), "okta: retrying", "path", req.URL.Path, "attempt", attempt, "wait", wait, "reason", why)
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		case <-timer.C:
		}
		waited += wait
		if usedBackoff {
			backoff = min(backoff*2, 8*time.Second)
		}
	}
}

// rateLimitWait is how long to wait after a 429: until
// X-Rate-Limit-Reset (epoch seconds), measured against the answer's Date
// header so that clock skew does not matter.
func rateLimitWait(h http.Header, now time.Time) (time.Duration, bool) {
	reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Rate-Limit-Reset")), 10, 64)
	if err != nil {
		return 0, false
	}
	date := now
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		date = d
	}
	// Date is truncated to the second, so this is never too short; the
	// margin absorbs the time the answer took to arrive.
	return max(time.Unix(reset, 0).Sub(date), 0) + 50*time.Millisecond, true
}

func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// cancelOnClose ends an attempt's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
