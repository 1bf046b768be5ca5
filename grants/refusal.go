package grants

import (
	"errors"
	"fmt"
	"strings"
)

// Refusal is an operation the rules refuse. Kind is ErrInvalid,
// ErrForbidden, ErrNotFound or ErrConflict; the message says why, in words
// meant for the person who asked.
type Refusal struct {
	Kind error
	Msg  string
}

func (r *Refusal) Error() string { return r.Msg }

// Unwrap lets errors.Is match the kind.
func (r *Refusal) Unwrap() error { return r.Kind }

// Kinds of refusal.
var (
	ErrInvalid   = errors.New("invalid input")
	ErrForbidden = errors.New("not allowed")
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("wrong state")
)

func refuse(kind error, format string, args ...any) *Refusal {
	return &Refusal{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// quoteList renders group names for messages: "Security" or "SRE", "On-Call".
func quoteList(names []string) string {
	if len(names) == 0 {
		return "(nobody: no group is configured)"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
