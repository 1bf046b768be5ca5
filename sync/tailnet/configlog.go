package tailnet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	tsclient "tailscale.com/client/tailscale/v2"
)

// The tailnet's configuration audit log ("Configuration audit logging",
// https://tailscale.com/kb/1203/audit-logging; API: GET
// /api/v2/tailnet/{tailnet}/logging/configuration?start=&end=, scope
// logs:configuration:read). The API takes a closed window of RFC 3339
// times and answers every event in it at once, without pages; this client
// pages by time instead, asking for one window after another, so a long
// period never arrives as one huge answer. The Go client has no method for
// this endpoint, so it is called over the client's own authenticated
// transport.

// ConfigLogEntry is one event of the configuration audit log.
type ConfigLogEntry struct {
	EventGroupID  string          `json:"eventGroupID"`
	EventTime     time.Time       `json:"eventTime"`
	Type          string          `json:"type"`
	Origin        string          `json:"origin"`
	Actor         ConfigLogActor  `json:"actor"`
	Target        ConfigLogTarget `json:"target"`
	Action        string          `json:"action"`
	Old           json.RawMessage `json:"old,omitempty"`
	New           json.RawMessage `json:"new,omitempty"`
	ActionDetails string          `json:"actionDetails,omitempty"`
	Error         string          `json:"error,omitempty"`
}

// ConfigLogActor is who made a change.
type ConfigLogActor struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	LoginName   string `json:"loginName,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// ConfigLogTarget is what a change applied to.
type ConfigLogTarget struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Property string `json:"property,omitempty"`
}

// MissingScopeError is the control plane refusing a call because the
// credential lacks the scope it needs (403).
type MissingScopeError struct {
	Scope   string // the scope the call needs, when known
	Message string // the control plane's message
}

func (e *MissingScopeError) Error() string {
	if e.Scope == "" {
		return "the Tailscale credential lacks a scope this call needs: " + e.Message
	}
	return fmt.Sprintf("the Tailscale credential lacks the %s scope: %s", e.Scope, e.Message)
}

// scopeError turns a 403 answer (from the client library or from rawAPI) into
// a *MissingScopeError naming scope; other errors pass unchanged.
func scopeError(scope string, err error) error {
	var missing *MissingScopeError
	if errors.As(err, &missing) {
		missing.Scope = scope
		return err
	}
	var apiErr tsclient.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden {
		return &MissingScopeError{Scope: scope, Message: apiErr.Message}
	}
	return err
}

// DefaultConfigLogWindow is the window of one request when none is given.
const DefaultConfigLogWindow = 24 * time.Hour

// EachConfigLogEntry calls fn for every configuration log event in
// [since, until), oldest first, asking for one window of at most window
// (zero: DefaultConfigLogWindow) at a time. It stops at fn's first error.
// A credential without logs:configuration:read gives a *MissingScopeError.
func EachConfigLogEntry(ctx context.Context, c *tsclient.Client, since, until time.Time, window time.Duration, fn func(ConfigLogEntry) error) error {
	if window <= 0 {
		window = DefaultConfigLogWindow
	}
	for start := since; start.Before(until); start = start.Add(window) {
		end := start.Add(window)
		if end.After(until) {
			end = until
		}
		end = end.Add(-time.Nanosecond) // the API's end is inclusive
		entries, err := configLogWindow(ctx, c, start, end)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReadConfigurationLog returns every configuration log event in
// [since, until), oldest first; see EachConfigLogEntry.
func ReadConfigurationLog(ctx context.Context, c *tsclient.Client, since, until time.Time, window time.Duration) ([]ConfigLogEntry, error) {
	var out []ConfigLogEntry
	err := EachConfigLogEntry(ctx, c, since, until, window, func(e ConfigLogEntry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// configLogWindow reads the events of the closed window [start, end].
func configLogWindow(ctx context.Context, c *tsclient.Client, start, end time.Time) ([]ConfigLogEntry, error) {
	query := url.Values{
		"start": {start.UTC().Format(time.RFC3339Nano)},
		"end":   {end.UTC().Format(time.RFC3339Nano)},
	}
	status, body, err := rawAPI(ctx, c, http.MethodGet, query, nil, "tailnet", "", "logging", "configuration")
	if err != nil {
		return nil, fmt.Errorf("reading configuration log: %w", err)
	}
	if status != http.StatusOK {
		err := scopeError("logs:configuration:read", errorFromAnswer(status, body))
		return nil, fmt.Errorf("reading configuration log %s to %s: %w", start.Format(time.RFC3339), end.Format(time.RFC3339), err)
	}
	var page struct {
		Logs []ConfigLogEntry `json:"logs"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("decoding configuration log: %w", err)
	}
	slices.SortStableFunc(page.Logs, func(a, b ConfigLogEntry) int { return a.EventTime.Compare(b.EventTime) })
	return page.Logs, nil
}

// rawAPI calls the API over the client's own authenticated transport, for
// the calls the client library does not offer. An empty path element after
// "tailnet" is the client's tailnet. It returns the status and body.
func rawAPI(ctx context.Context, c *tsclient.Client, method string, query url.Values, body any, path ...string) (int, []byte, error) {
	status, _, b, err := rawRequest(ctx, c, method, query, body, nil, path...)
	return status, b, err
}

// rawRequest is rawAPI with extra request headers, answering the response
// headers too.
func rawRequest(ctx context.Context, c *tsclient.Client, method string, query url.Values, body any, header http.Header, path ...string) (int, http.Header, []byte, error) {
	c.Logging() // fills in the client's defaults and authenticated transport
	for i, p := range path {
		if p == "" && i > 0 && path[i-1] == "tailnet" {
			path[i] = c.Tailnet
		}
	}
	u := c.BaseURL.JoinPath(append([]string{"api", "v2"}, path...)...)
	u.RawQuery = query.Encode()
	var reqBody io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case hujsonText:
		reqBody, contentType = bytes.NewReader(b), "application/hujson"
	default:
		js, err := json.Marshal(b)
		if err != nil {
			return 0, nil, nil, err
		}
		reqBody = bytes.NewReader(js)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reqBody)
	if err != nil {
		return 0, nil, nil, err
	}
	if c.APIKey != "" {
		req.SetBasicAuth(c.APIKey, "")
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", c.UserAgent)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	return resp.StatusCode, resp.Header, b, err
}

// hujsonText is a request body sent as it is (a policy file).
type hujsonText []byte

// rawAPICall sends a call whose answer has no body of interest and turns an
// error answer into an error.
func rawAPICall(ctx context.Context, c *tsclient.Client, method string, body any, path ...string) error {
	status, b, err := rawAPI(ctx, c, method, nil, body, path...)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return errorFromAnswer(status, b)
	}
	return nil
}

// errorFromAnswer turns an error answer into a *MissingScopeError (403) or the
// client library's APIError.
func errorFromAnswer(status int, body []byte) error {
	apiErr := tsclient.APIError{Status: status}
	if json.Unmarshal(body, &apiErr) != nil || apiErr.Message == "" {
		apiErr.Message = http.StatusText(status)
	}
	if status == http.StatusForbidden {
		return &MissingScopeError{Message: apiErr.Message}
	}
	return apiErr
}

// IsMissingScope reports whether err is a *MissingScopeError.
func IsMissingScope(err error) bool {
	var e *MissingScopeError
	return errors.As(err, &e)
}
