package grants

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	gosync "sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Where the catalog in use comes from.
const (
	CatalogFromFile     = "file"
	CatalogFromDatabase = "database"
)

// catalogRow is the catalog when it lives in the database (one row, id 1).
type catalogRow struct {
	ID        int64 `gorm:"primaryKey"`
	Body      string
	Version   int64
	UpdatedAt time.Time
	UpdatedBy string
}

func (catalogRow) TableName() string { return "catalogs" }

// CatalogStore holds the catalog in use: the PORTAL_CATALOG file when one is
// set, the database's otherwise.
type CatalogStore struct {
	db   *gorm.DB
	path string

	mu      gosync.RWMutex
	current *Catalog
	etag    string
	version int64 // of the database row current came from; versions only go up
	lookup  OktaGroupLookup
}

// OpenCatalogStore loads the catalog: from path when it is not empty (the
// file is the source of truth), else from the database (empty when none was
// imported yet).
func (st *Store) OpenCatalogStore(ctx context.Context, path string) (*CatalogStore, error) {
	s := &CatalogStore{db: st.db.DB, path: path}
	if path != "" {
		c, err := LoadCatalogFile(path)
		if err != nil {
			return nil, err
		}
		s.current, s.etag = c, catalogETag(c)
		return s, nil
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the database catalog (another replica may have changed it).
// It does nothing in file mode.
func (s *CatalogStore) Reload(ctx context.Context) error {
	if s.path != "" {
		return nil
	}
	var row catalogRow
	err := s.db.WithContext(ctx).Where("id = 1").Take(&row).Error
	c := &Catalog{Groups: map[string]string{}, Resources: map[string]Resource{}}
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
	case err != nil:
		return fmt.Errorf("reading catalog: %w", err)
	default:
		if c, err = ParseCatalog("catalog (database)", []byte(row.Body)); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A reload that read the row before a concurrent Replace committed must
	// not put the older catalog back.
	if row.Version >= s.version {
		s.current, s.etag, s.version = c, catalogETag(c), row.Version
	}
	return nil
}

// Current returns the catalog in use. Callers must not modify it.
func (s *CatalogStore) Current() *Catalog {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.current
}

// ETag identifies the current catalog's content.
func (s *CatalogStore) ETag() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.etag
}

// Source is CatalogFromFile or CatalogFromDatabase.
func (s *CatalogStore) Source() string {
	if s.path != "" {
		return CatalogFromFile
	}
	return CatalogFromDatabase
}

// Path is the catalog file in file mode, "" otherwise.
func (s *CatalogStore) Path() string { return s.path }

// ErrCatalogFromFile means the catalog cannot be edited: a file owns it.
var ErrCatalogFromFile = errors.New("the catalog is managed in a file (PORTAL_CATALOG); edit the file instead")

// ErrStaleCatalog means the catalog changed since the caller read it.
var ErrStaleCatalog = errors.New("the catalog changed since it was read; reload and try again")

// Replace validates body and makes it the database catalog, audited as one
// event by actor. ifMatch, when not empty, must be the current ETag.
func (s *CatalogStore) Replace(ctx context.Context, name string, body []byte, ifMatch, actor string, now time.Time) (*Catalog, error) {
	if s.path != "" {
		return nil, ErrCatalogFromFile
	}
	c, refs, err := parseCatalog(name, body)
	if err != nil {
		return nil, err
	}
	if err := s.checkOktaGroups(ctx, name, s.Current(), refs); err != nil {
		return nil, err
	}
	var version int64
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row catalogRow
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = 1").Take(&row).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("reading catalog: %w", err)
		}
		before := &Catalog{Groups: map[string]string{}, Resources: map[string]Resource{}}
		if row.Body != "" {
			if before, err = ParseCatalog("catalog (database)", []byte(row.Body)); err != nil {
				return err
			}
		}
		if ifMatch != "" && ifMatch != catalogETag(before) {
			return ErrStaleCatalog
		}
		if err := checkAuthor(ctx, tx, before, c, actor); err != nil {
			return err
		}
		row = catalogRow{ID: 1, Body: string(c.Format()), Version: row.Version + 1, UpdatedAt: now.UTC(), UpdatedBy: actor}
		version = row.Version
		if err := tx.Save(&row).Error; err != nil {
			return fmt.Errorf("storing catalog: %w", err)
		}
		return AppendAudit(ctx, tx, Event{
			At: now, Actor: actor, Action: "catalog.replace", Target: "catalog",
			Details: map[string]any{"before": string(before.Format()), "after": row.Body, "version": row.Version},
		})
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if version >= s.version {
		s.current, s.etag, s.version = c, catalogETag(c), version
	}
	s.mu.Unlock()
	return c, nil
}

// catalogETag is a strong ETag of the catalog's canonical form.
func catalogETag(c *Catalog) string {
	sum := sha256.Sum256(c.Format())
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// OktaGroups returns every Okta group name the catalog mentions (synced
// groups, admins, eligible, approvers, autoApprove), sorted: the groups whose
// memberships the directory snapshot must hold.
func (c *Catalog) OktaGroups() []string {
	seen := map[string]bool{}
	add := func(names ...string) {
		for _, n := range names {
			seen[n] = true
		}
	}
	add(c.Admins...)
	for _, okta := range c.Groups {
		add(okta)
	}
	for _, r := range c.Resources {
		add(r.Eligible...)
		add(r.Approvers...)
		add(r.AutoApprove...)
	}
	return slices.Sorted(maps.Keys(seen))
}

// Watch re-reads the database catalog every interval until ctx ends, so
// that a change saved on another replica reaches this one, and calls
// changed after each change it sees (here or elsewhere). In file mode it
// returns at once: the file is read at start.
func (s *CatalogStore) Watch(ctx context.Context, interval time.Duration, changed func()) {
	if s.Source() == CatalogFromFile {
		return
	}
	seen := s.ETag()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.Reload(ctx); err != nil {
			if ctx.Err() == nil {
				slog.Warn("re-reading the catalog", "err", err)
			}
			continue
		}
		if etag := s.ETag(); etag != seen {
			seen = etag
			slog.Info("catalog changed", "etag", etag)
			changed()
		}
	}
}
