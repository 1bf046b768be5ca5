package tailnetfake

import (
	"slices"
	"strings"
)

// OAuthClient is an OAuth client of the tailnet with the scopes it was
// created with, e.g. {"policy_file", "devices:core"}.
//
// Scopes follow "OAuth clients" (https://tailscale.com/kb/1215/oauth-clients):
// a scope grants its read-only form too ("policy_file" grants
// "policy_file:read"), "all" grants every scope and "all:read" every
// read-only one. A token request that names no scope gets exactly the
// client's own; one that names a scope the client does not hold is refused
// with 403 and `OAuth client cannot grant scopes "…"` (the real service's
// answer, quoted in github.com/adinhodovic/tailscale-exporter issue 34).
type OAuthClient struct {
	ID     string
	Secret string
	Scopes []string
}

// grants reports whether the held scopes permit the wanted one.
func grants(held []string, want string) bool {
	for _, h := range held {
		switch {
		case h == "all", h == want:
			return true
		case h == "all:read" && strings.HasSuffix(want, ":read"):
			return true
		case want == h+":read":
			return true
		}
	}
	return false
}

// ungrantable returns the requested scopes that held does not cover.
func ungrantable(held, requested []string) []string {
	var out []string
	for _, r := range requested {
		if !grants(held, r) {
			out = append(out, r)
		}
	}
	return out
}

// Scopes returns the scopes of a live access token, or nil when the token
// is unknown; for tests that check what a client asked for.
func (s *Server) Scopes(token string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tokens[token].scopes)
}
