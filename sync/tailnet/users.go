package tailnet

import (
	"context"
	"fmt"
	"strings"
)

// Logins lists the login names of the tailnet's users, lower-cased
// (GET /api/v2/tailnet/{tailnet}/users, "List users" in Tailscale's API
// reference, https://tailscale.com/api#tag/users; scope users:read). A
// credential without the scope gives a *MissingScopeError.
func (t *Client) Logins(ctx context.Context) (map[string]bool, error) {
	users, err := t.client.Users().List(ctx, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("listing tailnet users: %w", scopeError("users:read", t.busy(err)))
	}
	out := make(map[string]bool, len(users))
	for _, u := range users {
		out[strings.ToLower(u.LoginName)] = true
	}
	return out, nil
}
