package grants

import (
	"context"

	"github.com/accessportal/portal/grants/database"
)

// DryRun calls fn with a store whose every write goes into one transaction
// that is rolled back afterwards: fn sees its own writes, nobody else does,
// and the database is left untouched.
func (s *Store) DryRun(ctx context.Context, fn func(tx *Store) error) error {
	return s.db.InRolledBackTx(ctx, func(tx *database.DB) error { return fn(&Store{db: tx, dir: &directoryCache{}}) })
}
