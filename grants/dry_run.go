package grants

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/accessportal/portal/grants/database"
)

// errRollback ends a dry run's transaction.
var errRollback = errors.New("dry run: rolled back")

// DryRun calls fn with a store whose every write goes into one transaction
// that is rolled back afterwards: fn sees its own writes, nobody else does,
// and the database is left untouched.
func (s *Store) DryRun(ctx context.Context, fn func(tx *Store) error) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(&Store{db: &database.DB{DB: tx, Dialect: s.db.Dialect, URL: s.db.URL}}); err != nil {
			return err
		}
		return errRollback
	})
	if errors.Is(err, errRollback) {
		return nil
	}
	return err
}
