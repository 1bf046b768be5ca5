package main

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// config is the portal's production configuration, parsed once from the
// environment (CONTRACT.md's table).
type config struct {
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

	OktaOrgURL     string
	OktaAPIToken   string
	OktaHookSecret string

	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string

	TailscaleAPIURL            string
	TailscaleTailnet           string
	TailscaleAPIKey            string
	TailscaleOAuthClientID     string
	TailscaleOAuthClientSecret string
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
		OktaHookSecret:             getenv("OKTA_HOOK_SECRET"),
		OIDCIssuer:                 get("OIDC_ISSUER", ""),
		OIDCClientID:               get("OIDC_CLIENT_ID", ""),
		OIDCClientSecret:           get("OIDC_CLIENT_SECRET", ""),
		TailscaleAPIURL:            strings.TrimRight(get("TAILSCALE_API_URL", "https://api.tailscale.com"), "/"),
		TailscaleTailnet:           get("TAILSCALE_TAILNET", "-"),
		TailscaleAPIKey:            get("TAILSCALE_API_KEY", ""),
		TailscaleOAuthClientID:     get("TAILSCALE_OAUTH_CLIENT_ID", ""),
		TailscaleOAuthClientSecret: get("TAILSCALE_OAUTH_CLIENT_SECRET", ""),
	}
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

	if err := checkURL("PORTAL_BASE_URL", c.BaseURL); err != nil {
		return nil, err
	}
	required := []struct{ name, value, what string }{
		{"OKTA_ORG_URL", c.OktaOrgURL, "the Okta org, e.g. https://example.okta.com"},
		{"OKTA_API_TOKEN", c.OktaAPIToken, "an Okta API token (SSWS) with read access to users and groups"},
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
	} {
		if err := checkURL(u.name, u.value); err != nil {
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

func checkURL(name, value string) error {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &configError{name, fmt.Sprintf("= %q is not an absolute http(s) URL", value)}
	}
	return nil
}
