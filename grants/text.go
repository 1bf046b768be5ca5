package grants

import (
	"strings"
)

// maxTextLen bounds reasons and comments: they end up in the audit log,
// notifications and the dashboard.
const maxTextLen = 2000

// checkText trims a reason or comment and bounds its length.
func checkText(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxTextLen {
		return "", refuse(ErrInvalid, "the %s is too long (%d bytes; at most %d)", what, len(s), maxTextLen)
	}
	return s, nil
}
