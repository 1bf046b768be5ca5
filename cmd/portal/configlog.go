package main

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strings"
	"time"

	"github.com/accessportal/portal/grants/evidence"
	"github.com/accessportal/portal/sync/tailnet"
)

// tailnetConfigLog is the tailnet's configuration audit log as evidence
// packets read it.
type tailnetConfigLog struct{ client *tailnet.Client }

// errStopLog ends a configuration log read the packet no longer wants.
var errStopLog = errors.New("stop reading the configuration log")

// Entries yields the tailnet's configuration log entries of [since, until),
// a day at a time (the API does not page).
func (l tailnetConfigLog) Entries(ctx context.Context, since, until time.Time) iter.Seq2[evidence.ConfigEntry, error] {
	return func(yield func(evidence.ConfigEntry, error) bool) {
		err := tailnet.EachConfigLogEntry(ctx, l.client.API(), since, until, 24*time.Hour, func(e tailnet.ConfigLogEntry) error {
			raw, err := json.Marshal(e)
			if err != nil {
				return err
			}
			entry := evidence.ConfigEntry{At: e.EventTime, PolicyChange: strings.EqualFold(e.Target.Property, "ACL"), Raw: raw}
			if !yield(entry, nil) {
				return errStopLog
			}
			return nil
		})
		switch {
		case err == nil, errors.Is(err, errStopLog):
		case tailnet.IsMissingScope(err):
			yield(evidence.ConfigEntry{}, &evidence.MissingScopeError{Scope: evidence.LogsScope, Err: err})
		default:
			yield(evidence.ConfigEntry{}, err)
		}
	}
}

// configLogFromEnv is the tailnet's configuration log when the environment
// names a Tailscale credential, else nil (the packet says it was not read).
func configLogFromEnv(getenv func(string) string) (evidence.ConfigLog, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	cfg := tailnet.Config{
		APIURL: get("TAILSCALE_API_URL", "https://api.tailscale.com"), Tailnet: get("TAILSCALE_TAILNET", "-"),
		APIKey: get("TAILSCALE_API_KEY", ""), OAuthClientID: get("TAILSCALE_OAUTH_CLIENT_ID", ""), OAuthClientSecret: get("TAILSCALE_OAUTH_CLIENT_SECRET", ""),
	}
	if cfg.APIKey == "" && cfg.OAuthClientID == "" {
		return nil, nil
	}
	c, err := tailnet.New(cfg)
	if err != nil {
		return nil, err
	}
	return tailnetConfigLog{c}, nil
}
