package okta

import "net/http"

// noteCredential remembers whether Okta refused the credential: 401 (the
// token or client assertion is not accepted: deactivated, expired, revoked)
// or 403 (it lacks a permission or scope); any success clears it.
func (t *transport) noteCredential(status int) {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		t.refused.Store(int64(status))
	case status < 300:
		t.refused.Store(0)
	}
}

// CredentialRefused is the HTTP status (401 or 403) of Okta's last answer
// when it refused the portal's credential, or 0 when the last answer was a
// success.
func (d *Directory) CredentialRefused() int { return int(d.transport.refused.Load()) }
