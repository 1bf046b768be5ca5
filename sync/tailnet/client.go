package tailnet

import (
	"context"
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
	// ValidatePolicy returns a *ValidationError when the API rejects text.
	ValidatePolicy(ctx context.Context, text []byte) error
	// WritePolicy writes text if the policy still has etag; ErrStalePolicy otherwise.
	WritePolicy(ctx context.Context, text []byte, etag string) error
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
		c.Auth = &tsclient.OAuth{ClientID: cfg.OAuthClientID, ClientSecret: cfg.OAuthClientSecret, Scopes: []string{"policy_file", "devices:core", "users:read"}}
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

// ValidatePolicy asks the API whether text is an acceptable policy.
func (t *Client) ValidatePolicy(ctx context.Context, text []byte) error {
	err := t.client.PolicyFile().Validate(ctx, string(text))
	if err == nil {
		return nil
	}
	var apiErr tsclient.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.Status {
		case http.StatusBadRequest:
			return &ValidationError{Message: apiErr.Message}
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			// A control server without the validate endpoint (some
			// self-hosted ones): the write below validates anyway.
			slog.Warn("the tailnet API has no policy validate endpoint; relying on the write's own validation", "status", apiErr.Status)
			return nil
		}
		return fmt.Errorf("validating tailnet policy: %w", t.busy(err))
	}
	if msg, ok := strings.CutPrefix(err.Error(), "ACL validation failed: "); ok {
		// The client appends the API's "data" list; drop it when empty so
		// the message is the API's own.
		return &ValidationError{Message: strings.TrimSuffix(msg, "; []")}
	}
	return fmt.Errorf("validating tailnet policy: %w", err)
}

// WritePolicy writes text with If-Match: etag.
func (t *Client) WritePolicy(ctx context.Context, text []byte, etag string) error {
	err := t.client.PolicyFile().Set(ctx, string(text), etag)
	var apiErr tsclient.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusPreconditionFailed:
		return ErrStalePolicy
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest:
		return &ValidationError{Message: apiErr.Message}
	default:
		return fmt.Errorf("writing tailnet policy: %w", t.busy(err))
	}
}

// DeleteDevicesOf deletes every device of the tailnet whose user is login
// (case-insensitive) and returns the names of those deleted.
func (t *Client) DeleteDevicesOf(ctx context.Context, login string) ([]string, error) {
	devices, err := t.client.Devices().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing devices: %w", err)
	}
	var deleted []string
	for _, d := range devices {
		if !strings.EqualFold(d.User, login) {
			continue
		}
		id := d.NodeID
		if id == "" {
			id = d.ID
		}
		if err := t.client.Devices().Delete(ctx, id); err != nil {
			return deleted, fmt.Errorf("deleting device %s of %s: %w", d.Name, login, err)
		}
		deleted = append(deleted, d.Name)
	}
	return deleted, nil
}
