package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"
)

// Outcomes of an API call, the values of the calls metric's outcome label
// and of [Error.Outcome].
const (
	OutcomeOK          = "ok"
	OutcomeTimeout     = "timeout"      // no answer within the bound
	OutcomeUnreachable = "unreachable"  // no connection, DNS, TLS …
	OutcomeRateLimited = "rate_limited" // 429
	OutcomeServerError = "server_error" // 5xx
	OutcomeRefused     = "refused"      // 401, 403: the API key
	OutcomeNotFound    = "not_found"    // 404
	OutcomeBadRequest  = "bad_request"  // another 4xx
	OutcomeBadAnswer   = "bad_answer"   // an answer that could not be read
)

var outcomes = []string{OutcomeOK, OutcomeTimeout, OutcomeUnreachable, OutcomeRateLimited,
	OutcomeServerError, OutcomeRefused, OutcomeNotFound, OutcomeBadRequest, OutcomeBadAnswer}

// Error is a failed lookup. Its message is one line that says why, fit to
// show as a request's pendingReason.
type Error struct {
	Outcome    string        // one of the Outcome constants
	Status     int           // the HTTP status, 0 without an answer
	RetryAfter time.Duration // for a 429: the wait PagerDuty asked for, -1 when it named none
	msg        string
}

func (e *Error) Error() string { return e.msg }

// classify turns a failure of go-pagerduty into an *Error.
func (c *Client) classify(ctx context.Context, err error, seen *response) *Error {
	if ctx.Err() != nil {
		return &Error{Outcome: OutcomeTimeout, msg: fmt.Sprintf("PagerDuty did not answer within %s", c.timeout)}
	}
	var apiErr pagerduty.APIError
	if errors.As(err, &apiErr) {
		return c.classifyStatus(apiErr, seen)
	}
	if seen.transport != nil {
		return &Error{Outcome: OutcomeUnreachable, msg: "PagerDuty unreachable: " + transportCause(seen.transport)}
	}
	return &Error{Outcome: OutcomeBadAnswer, Status: seen.status, msg: "PagerDuty's answer could not be read: " + oneLine(err.Error())}
}

func (c *Client) classifyStatus(apiErr pagerduty.APIError, seen *response) *Error {
	status := apiErr.StatusCode
	detail := strconv.Itoa(status)
	if apiErr.APIError.Valid && apiErr.APIError.ErrorObject.Message != "" {
		detail += " " + apiErr.APIError.ErrorObject.Message
		if errs := apiErr.APIError.ErrorObject.Errors; len(errs) > 0 {
			detail += ": " + strings.Join(errs, "; ")
		}
	} else {
		detail += " " + http.StatusText(status)
	}
	detail = oneLine(detail)
	switch {
	case status == http.StatusTooManyRequests:
		wait := retryAfter(seen.header, c.clock())
		msg := "PagerDuty is rate limiting the portal (" + detail + ")"
		if wait >= 0 {
			msg += fmt.Sprintf("; it asks to wait %s, longer than the %s bound", wait, c.timeout)
		}
		return &Error{Outcome: OutcomeRateLimited, Status: status, RetryAfter: wait, msg: msg}
	case status >= 500:
		return &Error{Outcome: OutcomeServerError, Status: status, msg: "PagerDuty failed (" + detail + ")"}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &Error{Outcome: OutcomeRefused, Status: status, msg: "PagerDuty refused the API key (" + detail + ")"}
	case status == http.StatusNotFound:
		return &Error{Outcome: OutcomeNotFound, Status: status, msg: "PagerDuty does not know it (" + detail + ")"}
	default:
		return &Error{Outcome: OutcomeBadRequest, Status: status, msg: "PagerDuty refused the lookup (" + detail + ")"}
	}
}

// retryAfter reads how long a 429 asks to wait: Retry-After (seconds or an
// HTTP date) or PagerDuty's ratelimit-reset (seconds). -1 when neither is
// there ("there may be exceptional scenarios where an application receives
// a 429 response code without the rate limit headers", REST API Rate
// Limits).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if n, err := strconv.Atoi(h.Get("ratelimit-reset")); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	return -1
}

// transportCause drops the method and URL from a transport error.
func transportCause(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
