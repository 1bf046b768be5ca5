package tailnet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	tsclient "tailscale.com/client/tailscale/v2"
)

// Config configures access to the Tailscale control API.
type Config struct {
	APIURL            string // https://api.tailscale.com
	Tailnet           string // "-" = the credential's own
	APIKey            string
	OAuthClientID     string
	OAuthClientSecret string
	HTTPClient        *http.Client // nil = a client with a 30s timeout
}

// Policy is the tailnet policy file as text with its ETag.
type Policy struct {
	Text []byte
	ETag string
}

// PolicyStore reads and writes the tailnet policy file.
type PolicyStore interface {
	ReadPolicy(ctx context.Context) (Policy, error)
	// ValidatePolicy returns a *ValidationError when the API rejects text;
	// warnings are not a refusal.
	ValidatePolicy(ctx context.Context, text []byte) (warnings []string, err error)
	// WritePolicy writes text if the policy still has etag (ErrStalePolicy
	// otherwise) and returns what the tailnet then holds, with its ETag.
	WritePolicy(ctx context.Context, text []byte, etag string) (Policy, error)
}

// ErrStalePolicy means the policy changed since it was read (HTTP 412).
var ErrStalePolicy = errors.New("the tailnet policy changed since it was read")

// ValidationError is the control API's verbatim refusal of a policy.
type ValidationError struct{ Message string }

func (e *ValidationError) Error() string { return "tailnet policy rejected: " + e.Message }

// Client is the policy file of a tailnet through the Tailscale API client.
type Client struct {
	client *tsclient.Client
	retry  *retryAfterTransport
}

// New builds the API client: OAuth client credentials when given,
// else the API key.
func New(cfg Config) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("tailscale API URL %q is invalid", cfg.APIURL)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	base0 := hc.Transport
	if base0 == nil {
		base0 = http.DefaultTransport
	}
	retry := &retryAfterTransport{base: base0, now: time.Now}
	hc = &http.Client{Transport: retry, Timeout: hc.Timeout, Jar: hc.Jar, CheckRedirect: hc.CheckRedirect}
	c := &tsclient.Client{BaseURL: base, Tailnet: cfg.Tailnet, HTTP: hc, UserAgent: "access-portal"}
	switch {
	case cfg.OAuthClientID != "":
		// No scopes named: the token carries exactly the client's own, so a
		// client made with policy_file alone works, and a feature whose
		// scope it lacks fails alone (a *MissingScopeError).
		c.Auth = &tsclient.OAuth{ClientID: cfg.OAuthClientID, ClientSecret: cfg.OAuthClientSecret}
	case cfg.APIKey != "":
		c.APIKey = cfg.APIKey
	default:
		return nil, errors.New("tailscale: an API key or an OAuth client is required")
	}
	return &Client{client: c, retry: retry}, nil
}

// API is the underlying Tailscale API client (devices, users).
func (t *Client) API() *tsclient.Client { return t.client }

// ReadPolicy reads the policy file as HuJSON text with its ETag.
func (t *Client) ReadPolicy(ctx context.Context) (Policy, error) {
	raw, err := t.client.PolicyFile().Raw(ctx)
	if err != nil {
		return Policy{}, fmt.Errorf("reading tailnet policy: %w", t.busy(err))
	}
	if raw.ETag == "" {
		return Policy{}, errors.New("reading tailnet policy: the API sent no ETag")
	}
	return Policy{Text: []byte(raw.HuJSON), ETag: raw.ETag}, nil
}

// ValidatePolicy asks the API whether text is an acceptable policy. A
// refusal (a syntax error, a failing policy test) is a *ValidationError with
// the API's message verbatim; warnings (for example a group SCIM does not
// sync) are not a refusal and come back as lines. The client library takes
// any message for a failure, so the answer is read here.
func (t *Client) ValidatePolicy(ctx context.Context, text []byte) (warnings []string, err error) {
	status, body, err := rawAPI(ctx, t.client, http.MethodPost, nil, hujsonText(text), "tailnet", "", "acl", "validate")
	if err != nil {
		return nil, fmt.Errorf("validating tailnet policy: %w", err)
	}
	switch {
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		// A control server without the validate endpoint (some self-hosted
		// ones): the write validates anyway.
		slog.Warn("the tailnet API has no policy validate endpoint; relying on the write's own validation", "status", status)
		return nil, nil
	case status == http.StatusBadRequest:
		return nil, &ValidationError{Message: answerMessage(body)}
	case status/100 != 2:
		return nil, fmt.Errorf("validating tailnet policy: %w", t.busy(errorFromAnswer(status, body)))
	}
	return validateAnswer(body)
}

// validateAnswer reads a 200 answer of the validate endpoint: empty, or a
// message with data entries that carry errors (a refusal: failing tests) or
// only warnings.
func validateAnswer(body []byte) ([]string, error) {
	var ans apiAnswer
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("validating tailnet policy: unreadable answer: %w", err)
	}
	var warnings []string
	for _, d := range ans.Data {
		for _, w := range d.Warnings {
			warnings = append(warnings, strings.TrimPrefix(d.User+": "+w, ": "))
		}
	}
	if ans.refused() || (ans.Message != "" && len(warnings) == 0) {
		return warnings, &ValidationError{Message: ans.text()}
	}
	return warnings, nil
}

// apiAnswer is the body of a policy refusal or a validation answer.
type apiAnswer struct {
	Message string `json:"message"`
	Data    []struct {
		User     string   `json:"user"`
		Errors   []string `json:"errors"`
		Warnings []string `json:"warnings"`
	} `json:"data"`
}

func (a *apiAnswer) refused() bool {
	for _, d := range a.Data {
		if len(d.Errors) > 0 {
			return true
		}
	}
	return false
}

// text is the message with every error of the data entries, verbatim.
func (a *apiAnswer) text() string {
	msg := a.Message
	for _, d := range a.Data {
		for _, e := range d.Errors {
			msg += "; " + strings.TrimPrefix(d.User+": "+e, ": ")
		}
	}
	return msg
}

// answerMessage is the message of an API error answer, with its details.
func answerMessage(body []byte) string {
	var ans apiAnswer
	if json.Unmarshal(body, &ans) != nil || ans.Message == "" {
		return strings.TrimSpace(string(body))
	}
	return ans.text()
}

// WritePolicy writes text with If-Match: etag and returns the policy the
// tailnet now holds with its new ETag, from the write's own answer: no
// read-back. The write validates the policy itself: a refusal is a
// *ValidationError with the API's message verbatim; a stale etag is
// ErrStalePolicy.
func (t *Client) WritePolicy(ctx context.Context, text []byte, etag string) (Policy, error) {
	header := http.Header{"Accept": {"application/hujson"}}
	if etag != "" {
		header.Set("If-Match", fmt.Sprintf("%q", strings.Trim(etag, `"`)))
	}
	status, h, body, err := rawRequest(ctx, t.client, http.MethodPost, nil, hujsonText(text), header, "tailnet", "", "acl")
	switch {
	case err != nil:
		return Policy{}, fmt.Errorf("writing tailnet policy: %w", err)
	case status == http.StatusPreconditionFailed:
		return Policy{}, ErrStalePolicy
	case status == http.StatusBadRequest:
		return Policy{}, &ValidationError{Message: answerMessage(body)}
	case status/100 != 2:
		return Policy{}, fmt.Errorf("writing tailnet policy: %w", t.busy(errorFromAnswer(status, body)))
	}
	// The tailnet stores the HuJSON it was sent; its answer is that text
	// when it speaks HuJSON (anything else would be a reformatted copy).
	if !strings.Contains(h.Get("Content-Type"), "hujson") {
		body = text
	}
	return Policy{Text: body, ETag: h.Get("ETag")}, nil
}

// DeleteDevicesOf deletes every untagged device of the user with that
// login and returns the names of those deleted. A tagged device belongs to
// its tags, not to whoever registered it: it is never deleted here.
func (t *Client) DeleteDevicesOf(ctx context.Context, login string) ([]string, error) {
	devices, err := UntaggedDevices(ctx, t.client, login)
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, d := range devices {
		id := d.NodeID
		if id == "" {
			id = d.ID
		}
		if err := t.client.Devices().Delete(ctx, id); err != nil {
			return deleted, fmt.Errorf("deleting device %s of %s: %w", d.Name, login, scopeError("devices:core", err))
		}
		deleted = append(deleted, d.Name)
	}
	return deleted, nil
}
