package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/accessportal/portal/migrations"
)

// Dialect names the database engine behind a DB.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open portal database.
type DB struct {
	*gorm.DB
	Dialect Dialect
	// URL is the DATABASE_URL the database was opened with.
	URL string
	// lockID is the PostgreSQL advisory lock taken while migrating: one per
	// schema, so that databases in different schemas migrate independently.
	lockID int64
}

// Open connects to the database named by url: "sqlite:PATH" (WAL,
// busy_timeout and foreign keys on) or "postgres://…". It does not migrate.
func Open(rawURL string) (*DB, error) {
	dialect, dsn, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
		TranslateError:         true,
	}
	var g *gorm.DB
	switch dialect {
	case SQLite:
		g, err = gorm.Open(sqlite.Open(dsn), cfg)
	case Postgres:
		g, err = gorm.Open(postgres.Open(dsn), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s database: %w", dialect, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("opening %s database: %w", dialect, err)
	}
	if dialect == SQLite {
		// One writer at a time is SQLite's rule; a small pool keeps readers
		// concurrent under WAL while busy_timeout absorbs write contention.
		sqlDB.SetMaxOpenConns(4)
	} else {
		sqlDB.SetMaxOpenConns(20)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connecting to %s database: %w", dialect, err)
	}
	return &DB{DB: g, Dialect: dialect, URL: rawURL, lockID: migrationLockID(rawURL)}, nil
}

// parseURL turns DATABASE_URL into a driver DSN.
func parseURL(rawURL string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(rawURL, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", errors.New("DATABASE_URL: sqlite: needs a file path, e.g. sqlite:portal.db")
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return "", "", fmt.Errorf("DATABASE_URL: creating %s: %w", dir, err)
			}
		}
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		return SQLite, "file:" + path + "?" + q.Encode(), nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		if _, err := url.Parse(rawURL); err != nil {
			return "", "", fmt.Errorf("DATABASE_URL: %w", err)
		}
		return Postgres, rawURL, nil
	default:
		return "", "", fmt.Errorf("DATABASE_URL: %q is neither sqlite:PATH nor postgres://…", rawURL)
	}
}

// migrationLockID is goose's default lock id, varied by the URL's
// search_path so that each schema has its own.
func migrationLockID(rawURL string) int64 {
	id := lock.DefaultLockID
	if u, err := url.Parse(rawURL); err == nil {
		if sp := u.Query().Get("search_path"); sp != "" {
			id ^= int64(crc32.ChecksumIEEE([]byte(sp)))
		}
	}
	return id
}

// Close closes the connection pool.
func (db *DB) Close() error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// ErrNewerSchema means the database was migrated by a newer portal.
var ErrNewerSchema = errors.New("the database has migrations newer than this portal knows; upgrade the portal")

// Migrate applies every pending migration. On PostgreSQL a session advisory
// lock makes replicas starting together take turns. It refuses a database
// whose schema is newer than the embedded migrations.
func (db *DB) Migrate(ctx context.Context) error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	p, err := db.provider(sqlDB)
	if err != nil {
		return err
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil && !errors.Is(err, goose.ErrVersionNotFound) {
		return fmt.Errorf("reading schema version: %w", err)
	}
	sources := p.ListSources()
	latest := sources[len(sources)-1].Version
	if current > latest {
		return fmt.Errorf("schema version %d > %d: %w", current, latest, ErrNewerSchema)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("applying migrations: %w", err)
	}
	if len(results) > 0 {
		slog.Info("migrations applied", "count", len(results), "schema_version", results[len(results)-1].Source.Version)
	}
	return nil
}

func (db *DB) provider(sqlDB *sql.DB) (*goose.Provider, error) {
	var (
		fsys    fs.FS
		dialect goose.Dialect
		opts    = []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
		err     error
	)
	switch db.Dialect {
	case SQLite:
		fsys, err = fs.Sub(migrations.SQLite, "sqlite")
		dialect = goose.DialectSQLite3
	case Postgres:
		fsys, err = fs.Sub(migrations.Postgres, "postgres")
		dialect = goose.DialectPostgres
		locker, lerr := lock.NewPostgresSessionLocker(
			lock.WithLockID(db.lockID),
			lock.WithLockTimeout(1, 600), // poll every second for up to 10 minutes
		)
		if lerr != nil {
			return nil, lerr
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(dialect, sqlDB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading migrations: %w", err)
	}
	return p, nil
}

// errRollBack ends a transaction of InRolledBackTx.
var errRollBack = errors.New("rolled back")

// InRolledBackTx runs fn in a transaction that is always rolled back: what
// fn writes is seen by fn only (a dry run).
func (db *DB) InRolledBackTx(ctx context.Context, fn func(tx *DB) error) error {
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(&DB{DB: tx, Dialect: db.Dialect, URL: db.URL, lockID: db.lockID}); err != nil {
			return err
		}
		return errRollBack
	})
	if errors.Is(err, errRollBack) {
		return nil
	}
	return err
}
