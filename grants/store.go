package grants

import "github.com/accessportal/portal/grants/database"

// Store is the portal's database: every table is read and written through
// its methods, one file per entity. Nothing outside grants builds a query.
type Store struct {
	db *database.DB
	// onCall answers the on-call rule (WithOnCall); nil without PagerDuty.
	onCall OnCallChecker
	// dir keeps the desired state's inputs from the directory snapshot.
	dir *directoryCache
}

// NewStore returns the store over an open, migrated database.
func NewStore(db *database.DB) *Store { return &Store{db: db, dir: &directoryCache{}} }

// DB returns the open database, for wiring (migrations, leases, closing).
func (s *Store) DB() *database.DB { return s.db }
