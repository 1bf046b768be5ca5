package main

import (
	"crypto/ed25519"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/accessportal/portal/grants/evidence"
)

// config is the portal's production configuration, parsed once from the
// environment (CONTRACT.md's table).
type config struct {
	// AuditKey is PORTAL_AUDIT_KEY: the audit chain is an HMAC chain under it.
	AuditKey     []byte
	Addr         string
	BaseURL      string
	DatabaseURL  string
	CatalogPath  string
	SyncInterval time.Duration
	// LeaseTTL is how long a dead replica keeps the background loops'
	// lease before another takes over (PORTAL_LEASE_TTL, default 10s).
	LeaseTTL time.Duration
	// RequestTTL is how long a request may stay pending (PORTAL_REQUEST_TTL).
	RequestTTL time.Duration
	// NotifyWebhook receives Slack-compatible notifications
	// (PORTAL_NOTIFY_WEBHOOK); empty turns them off.
	NotifyWebhook string

	OktaOrgURL   string
	OktaAPIToken string
	// OktaClientID, OktaPrivateKey (PEM text) and OktaPrivateKeyID are an
	// Okta API service app, preferred to an SSWS token.
	OktaClientID     string
	OktaPrivateKey   string
	OktaPrivateKeyID string
	OktaHookSecret   string
	// TailscaleLogin is the Okta profile attribute that is a person's
	// Tailscale login: email or login (PORTAL_TAILSCALE_LOGIN).
	TailscaleLogin string

	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string

	TailscaleAPIURL            string
	TailscaleTailnet           string
	TailscaleAPIKey            string
	TailscaleOAuthClientID     string
	TailscaleOAuthClientSecret string

	// PagerDutyToken is a read-only PagerDuty REST API key
	// (PAGERDUTY_API_TOKEN); empty turns on-call approval off.
	PagerDutyToken string
	// PagerDutyAPIURL is the PagerDuty REST API base (PAGERDUTY_API_URL).
	PagerDutyAPIURL string
	// PolicyWatch is how often the policy's ETag is read to find changes
	// made outside the portal (the reconciler's default when zero;
	// negative: never, which tests use to see the webhook alone).
	PolicyWatch time.Duration
	// SigningKey signs evidence packets' manifests (PORTAL_SIGNING_KEY);
	// nil leaves them unsigned.
	SigningKey ed25519.PrivateKey
	// TailscaleWebhookSecret verifies the tailnet's webhook deliveries to
	// /hooks/tailscale (TAILSCALE_WEBHOOK_SECRET); empty refuses them.
	TailscaleWebhookSecret string
	// SlackBotToken and SlackSigningSecret make the portal a Slack app
	// (both or neither); SlackAPIURL is the Web API base; SlackChannel is
	// where new requests are posted ("" sends approvers direct messages).
	SlackBotToken      string
	SlackSigningSecret string
	SlackAPIURL        string
	SlackChannel       string
}

// configError names the variable at fault, in one line.
type configError struct{ Var, Msg string }

func (e *configError) Error() string { return e.Var + " " + e.Msg }

// databaseURL is DATABASE_URL or its default.
func databaseURL(getenv func(string) string) string {
	if v := strings.TrimSpace(getenv("DATABASE_URL")); v != "" {
		return v
	}
	return "sqlite:portal.db"
}

// loadConfig reads and checks the environment for `portal serve`.
func loadConfig(getenv func(string) string) (*config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := &config{
		Addr:                       get("PORTAL_ADDR", ":8080"),
		BaseURL:                    strings.TrimRight(get("PORTAL_BASE_URL", "http://localhost:8080"), "/"),
		DatabaseURL:                databaseURL(getenv),
		CatalogPath:                get("PORTAL_CATALOG", ""),
		OktaOrgURL:                 strings.TrimRight(get("OKTA_ORG_URL", ""), "/"),
		OktaAPIToken:               get("OKTA_API_TOKEN", ""),
		OktaClientID:               get("OKTA_CLIENT_ID", ""),
		OktaPrivateKeyID:           get("OKTA_PRIVATE_KEY_ID", ""),
		TailscaleLogin:             get("PORTAL_TAILSCALE_LOGIN", "email"),
		OktaHookSecret:             getenv("OKTA_HOOK_SECRET"),
		OIDCIssuer:                 get("OIDC_ISSUER", ""),
		OIDCClientID:               get("OIDC_CLIENT_ID", ""),
		OIDCClientSecret:           get("OIDC_CLIENT_SECRET", ""),
		TailscaleAPIURL:            strings.TrimRight(get("TAILSCALE_API_URL", "https://api.tailscale.com"), "/"),
		TailscaleTailnet:           get("TAILSCALE_TAILNET", "-"),
		TailscaleAPIKey:            get("TAILSCALE_API_KEY", ""),
		TailscaleOAuthClientID:     get("TAILSCALE_OAUTH_CLIENT_ID", ""),
		TailscaleOAuthClientSecret: get("TAILSCALE_OAUTH_CLIENT_SECRET", ""),
		PagerDutyToken:             get("PAGERDUTY_API_TOKEN", ""),
		PagerDutyAPIURL:            strings.TrimRight(get("PAGERDUTY_API_URL", "https://api.pagerduty.com"), "/"),
	}
	c.TailscaleWebhookSecret = getenv("TAILSCALE_WEBHOOK_SECRET")
	interval := get("PORTAL_SYNC_INTERVAL", "5m")
	d, err := time.ParseDuration(interval)
	if err != nil || d <= 0 {
		return nil, &configError{"PORTAL_SYNC_INTERVAL", fmt.Sprintf("= %q is not a positive duration like 5m or 30s", interval)}
	}
	c.SyncInterval = d
	lease := get("PORTAL_LEASE_TTL", "10s")
	if c.LeaseTTL, err = time.ParseDuration(lease); err != nil || c.LeaseTTL < time.Second {
		return nil, &configError{"PORTAL_LEASE_TTL", fmt.Sprintf("= %q is not a duration of at least 1s", lease)}
	}
	ttl := get("PORTAL_REQUEST_TTL", "24h")
	if c.RequestTTL, err = time.ParseDuration(ttl); err != nil || c.RequestTTL <= 0 {
		return nil, &configError{"PORTAL_REQUEST_TTL", fmt.Sprintf("= %q is not a positive duration like 24h or 90m", ttl)}
	}
	if c.NotifyWebhook = get("PORTAL_NOTIFY_WEBHOOK", ""); c.NotifyWebhook != "" {
		// Not echoed: a webhook URL is a secret.
		if u, err := url.Parse(c.NotifyWebhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, &configError{"PORTAL_NOTIFY_WEBHOOK", "is not an absolute http(s) URL"}
		}
	}

	if v := get("PORTAL_SIGNING_KEY", ""); v != "" {
		if c.SigningKey, err = evidence.ParseSigningKey(v); err != nil {
			return nil, &configError{"PORTAL_SIGNING_KEY", "is not an Ed25519 key: " + err.Error()}
		}
	}
	if c.AuditKey, err = parseAuditKey(getenv("PORTAL_AUDIT_KEY")); err != nil {
		return nil, err
	}
	if err := checkURL("PORTAL_BASE_URL", c.BaseURL); err != nil {
		return nil, err
	}
	if err := c.loadSlack(get); err != nil {
		return nil, err
	}
	if err := c.loadOktaCredential(getenv); err != nil {
		return nil, err
	}
	if c.TailscaleLogin != "email" && c.TailscaleLogin != "login" {
		return nil, &configError{"PORTAL_TAILSCALE_LOGIN", fmt.Sprintf("= %q is neither email nor login", c.TailscaleLogin)}
	}
	required := []struct{ name, value, what string }{
		{"OKTA_ORG_URL", c.OktaOrgURL, "the Okta org, e.g. https://example.okta.com"},
		{"OIDC_ISSUER", c.OIDCIssuer, "the OIDC issuer for sign-in, e.g. https://example.okta.com"},
		{"OIDC_CLIENT_ID", c.OIDCClientID, "the client id of the portal's Okta OIDC app"},
		{"OIDC_CLIENT_SECRET", c.OIDCClientSecret, "the client secret of the portal's Okta OIDC app"},
	}
	for _, r := range required {
		if r.value == "" {
			return nil, &configError{r.name, "is required: " + r.what}
		}
	}
	for _, u := range []struct{ name, value string }{
		{"OKTA_ORG_URL", c.OktaOrgURL}, {"OIDC_ISSUER", c.OIDCIssuer}, {"TAILSCALE_API_URL", c.TailscaleAPIURL},
		{"PAGERDUTY_API_URL", c.PagerDutyAPIURL},
	} {
		if err := checkSecureURL(u.name, u.value); err != nil {
			return nil, err
		}
	}
	hasKey := c.TailscaleAPIKey != ""
	hasOAuth := c.TailscaleOAuthClientID != "" || c.TailscaleOAuthClientSecret != ""
	switch {
	case hasKey && hasOAuth:
		return nil, &configError{"TAILSCALE_API_KEY", "and TAILSCALE_OAUTH_CLIENT_ID/SECRET are both set; set one of them"}
	case !hasKey && !hasOAuth:
		return nil, &configError{"TAILSCALE_OAUTH_CLIENT_ID", "is required (with TAILSCALE_OAUTH_CLIENT_SECRET), or set TAILSCALE_API_KEY"}
	case hasOAuth && c.TailscaleOAuthClientID == "":
		return nil, &configError{"TAILSCALE_OAUTH_CLIENT_ID", "is required when TAILSCALE_OAUTH_CLIENT_SECRET is set"}
	case hasOAuth && c.TailscaleOAuthClientSecret == "":
		return nil, &configError{"TAILSCALE_OAUTH_CLIENT_SECRET", "is required when TAILSCALE_OAUTH_CLIENT_ID is set"}
	}
	return c, nil
}

// loadSlack reads the Slack app's settings: SLACK_BOT_TOKEN and
// SLACK_SIGNING_SECRET both or neither.
func (c *config) loadSlack(get func(name, def string) string) error {
	c.SlackBotToken, c.SlackSigningSecret = get("SLACK_BOT_TOKEN", ""), get("SLACK_SIGNING_SECRET", "")
	c.SlackAPIURL, c.SlackChannel = get("SLACK_API_URL", "https://slack.com/api/"), get("PORTAL_SLACK_CHANNEL", "")
	switch {
	case c.SlackBotToken != "" && c.SlackSigningSecret == "":
		return &configError{"SLACK_SIGNING_SECRET", "is required when SLACK_BOT_TOKEN is set: the Slack app's signing secret"}
	case c.SlackBotToken == "" && c.SlackSigningSecret != "":
		return &configError{"SLACK_BOT_TOKEN", "is required when SLACK_SIGNING_SECRET is set: the Slack app's bot token (xoxb-…)"}
	case c.SlackChannel != "" && c.SlackBotToken == "":
		return &configError{"PORTAL_SLACK_CHANNEL", "needs the Slack app: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"}
	}
	return checkSecureURL("SLACK_API_URL", c.SlackAPIURL)
}

// loadOktaCredential reads the Okta API credential: a service app
// (OKTA_CLIENT_ID with OKTA_PRIVATE_KEY, the key as PEM text or @path) or an
// SSWS token (OKTA_API_TOKEN), not both.
func (c *config) loadOktaCredential(getenv func(string) string) error {
	key := strings.TrimSpace(getenv("OKTA_PRIVATE_KEY"))
	if path, ok := strings.CutPrefix(key, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return &configError{"OKTA_PRIVATE_KEY", fmt.Sprintf("names a file that cannot be read: %v", err)}
		}
		key = string(b)
	}
	c.OktaPrivateKey = key
	app := c.OktaClientID != "" || key != ""
	switch {
	case app && c.OktaAPIToken != "":
		return &configError{"OKTA_API_TOKEN", "and OKTA_CLIENT_ID/OKTA_PRIVATE_KEY are both set; set one of them"}
	case app && c.OktaClientID == "":
		return &configError{"OKTA_CLIENT_ID", "is required when OKTA_PRIVATE_KEY is set"}
	case app && key == "":
		return &configError{"OKTA_PRIVATE_KEY", "is required when OKTA_CLIENT_ID is set: the service app's RSA private key (PEM, or @/path/to/key.pem)"}
	case !app && c.OktaAPIToken == "":
		return &configError{"OKTA_CLIENT_ID", "is required (with OKTA_PRIVATE_KEY: an Okta API service app with okta.users.read, okta.groups.read, okta.logs.read), or set OKTA_API_TOKEN"}
	}
	return nil
}

// checkSecureURL is checkURL that also refuses http:// except to a
// loopback host (a local test server): credentials never travel in clear.
func checkSecureURL(name, value string) error {
	if err := checkURL(name, value); err != nil {
		return err
	}
	u, _ := url.Parse(value)
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return &configError{name, fmt.Sprintf("= %q must be https:// (http:// only for a loopback host)", value)}
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkURL(name, value string) error {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &configError{name, fmt.Sprintf("= %q is not an absolute http(s) URL", value)}
	}
	return nil
}
