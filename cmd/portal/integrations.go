package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/tailnet"
	"github.com/accessportal/portal/web"
)

// integrationProbe answers the dashboard's IntegrationCheck: whether Okta
// refuses the credential, which Tailscale scopes the credential lacks, and
// who holds access without a tailnet user. The Tailscale probes cost a few
// API calls, so an answer is kept for ttl.
type integrationProbe struct {
	a   *app
	ttl time.Duration

	mu   gosync.Mutex
	at   time.Time
	last web.IntegrationReport
}

// Report is the current report, at most ttl old.
func (p *integrationProbe) Report(ctx context.Context) web.IntegrationReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && time.Since(p.at) < p.ttl {
		return p.last
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p.last, p.at = p.check(ctx), time.Now()
	return p.last
}

func (p *integrationProbe) check(ctx context.Context) web.IntegrationReport {
	var r web.IntegrationReport
	if line := oktaCredentialLine(p.a.directory.CredentialRefused()); line != "" {
		r.Problems = append(r.Problems, line)
	}
	devices, err := p.a.tailnet.UserDevices(ctx)
	r.Problems = appendScopeLine(r.Problems, err, "devices:core:read", "offboarding cannot delete devices and device posture is off")
	if err == nil && postureInUse(p.a.catalog.Current()) {
		if id, ok := anyDevice(devices); ok {
			_, err := p.a.tailnet.Posture(ctx, id)
			r.Problems = appendScopeLine(r.Problems, err, "devices:posture_attributes", "device posture (the second lock) is off; group membership still ends access")
		}
	}
	now := time.Now()
	err = tailnet.EachConfigLogEntry(ctx, p.a.tailnet.API(), now.Add(-time.Minute), now, time.Minute, func(tailnet.ConfigLogEntry) error { return errStopLog })
	r.Problems = appendScopeLine(r.Problems, err, "logs:configuration:read", "evidence packets say the tailnet's configuration log could not be read")
	logins, err := p.a.tailnet.Logins(ctx)
	r.Problems = appendScopeLine(r.Problems, err, "users:read", "the dashboard cannot list people who hold access but have no tailnet user")
	if err == nil {
		r.Unconnected, err = p.unconnected(ctx, logins)
		if err != nil {
			slog.Warn("listing people without a tailnet user", "err", err)
		}
	}
	return r
}

// oktaCredentialLine is the dashboard line for Okta refusing the
// credential with status (401 or 403), or "".
func oktaCredentialLine(status int) string {
	switch status {
	case 401:
		return "Okta refuses the portal's credential (HTTP 401): the API token or service app key is not accepted (deactivated, expired or revoked), so the directory is not read. Replace OKTA_API_TOKEN or the service app's key (OKTA_CLIENT_ID, OKTA_PRIVATE_KEY)."
	case 403:
		return "Okta refuses the portal's credential (HTTP 403): it lacks a permission or scope the portal needs (okta.users.read, okta.groups.read, okta.logs.read for a service app; a read-only admin role for a token)."
	}
	return ""
}

// appendScopeLine adds a line when err is a missing Tailscale scope.
func appendScopeLine(lines []string, err error, scope, effect string) []string {
	if err == nil || !tailnet.IsMissingScope(err) {
		if err != nil && !strings.Contains(err.Error(), "stop reading") {
			slog.Debug("tailnet probe", "scope", scope, "err", err)
		}
		return lines
	}
	return append(lines, fmt.Sprintf("The Tailscale credential lacks the %s scope: %s. Add it to the OAuth client.", scope, effect))
}

// postureInUse reports whether a resource of the catalog has devicePosture.
func postureInUse(c *grants.Catalog) bool {
	for _, r := range c.Resources {
		if r.DevicePosture != "" {
			return true
		}
	}
	return false
}

// anyDevice is one device of the listing, the same one each time.
func anyDevice(devices map[string][]tailnet.Device) (string, bool) {
	for _, login := range slices.Sorted(maps.Keys(devices)) {
		if ds := devices[login]; len(ds) > 0 {
			return ds[0].ID, true
		}
	}
	return "", false
}

// unconnected lists the people who hold access (an active grant or a
// synced group's membership) and whose login is not a tailnet user.
func (p *integrationProbe) unconnected(ctx context.Context, logins map[string]bool) ([]web.UnconnectedPerson, error) {
	groups := map[string][]string{}
	add := func(email, group string) {
		email = strings.ToLower(email)
		if !logins[email] && !slices.Contains(groups[email], group) {
			groups[email] = append(groups[email], group)
		}
	}
	var after int64
	for {
		page, more, err := p.a.store.ActiveGrantsPage(ctx, "", "", after, 500)
		if err != nil {
			return nil, err
		}
		for _, g := range page {
			add(g.UserEmail, g.GroupName)
			after = g.ID
		}
		if !more || len(page) == 0 {
			break
		}
	}
	cat := p.a.catalog.Current()
	synced := slices.Sorted(maps.Keys(cat.Groups))
	afterGroup, afterEmail := "", ""
	for {
		page, more, err := p.a.store.SyncedMembersPage(ctx, cat, synced, "", afterGroup, afterEmail, 500)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			add(m.Email, m.Tailscale)
			afterGroup, afterEmail = m.Tailscale, m.Email
		}
		if !more || len(page) == 0 {
			break
		}
	}
	out := make([]web.UnconnectedPerson, 0, len(groups))
	for _, email := range slices.Sorted(maps.Keys(groups)) {
		gs := groups[email]
		slices.Sort(gs)
		out = append(out, web.UnconnectedPerson{Email: email, Groups: gs})
	}
	return out, nil
}
