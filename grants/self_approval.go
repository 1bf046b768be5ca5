package grants

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errSelfApproval refuses a requester's approval of their own request.
var errSelfApproval = refuse(ErrForbidden, "you cannot approve your own request")

// ActionSelfApprovalRefused is the audit action of a refused attempt to
// approve one's own request; evidence packets count them.
const ActionSelfApprovalRefused = "request.self-approval-refused"

// auditSelfApproval records a refused self-approval (the refusing
// transaction rolled back, so it is audited after) and returns err
// unchanged, or the audit's failure.
func (s *Store) auditSelfApproval(ctx context.Context, err error, id int64, by *Person, now time.Time) error {
	if !errors.Is(err, errSelfApproval) {
		return err
	}
	ev := Event{At: now, Actor: by.Email, Action: ActionSelfApprovalRefused, Target: fmt.Sprintf("request:%d", id),
		Details: map[string]any{"reason": errSelfApproval.Msg}}
	if aerr := s.AppendAudit(ctx, ev); aerr != nil {
		return fmt.Errorf("auditing a refused self-approval: %w", aerr)
	}
	return err
}
