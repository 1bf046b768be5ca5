package grants

import (
	"context"

	"gorm.io/gorm"
)

// Audit appends one event to the audit log in its own transaction, so that
// reading the chain's head and appending to it are one step.
func (s *Store) Audit(ctx context.Context, e Event) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return AppendAudit(ctx, tx, e)
	})
}
