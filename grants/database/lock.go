package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"
	"time"
)

// leaseLockBase is the base of the PostgreSQL session locks of named
// leases, varied by schema (see lockKey) so that portals in different
// schemas of one server never share a lock.
const leaseLockBase int64 = 0x706f7274616c // "portal"

// Lock is an exclusive lock that dies with the process holding it: a
// PostgreSQL session advisory lock on a dedicated connection (the server
// releases it when the connection drops), or an OS file lock beside a SQLite
// database (the kernel releases it when the process exits). Another process
// waiting for it can take it over the moment the holder is gone.
type Lock struct {
	name string
	conn *sql.Conn // PostgreSQL
	file fileLock  // SQLite

	mu       sync.Mutex
	released bool
}

// TryLock takes the named lock if nobody holds it; ok is false when another
// process (or another Lock in this one) does.
func (db *DB) TryLock(ctx context.Context, name string) (l *Lock, ok bool, err error) {
	switch db.Dialect {
	case Postgres:
		return db.tryAdvisoryLock(ctx, name)
	case SQLite:
		f, ok, err := tryFileLock(db.sqlitePath() + "." + name + ".lock")
		if err != nil || !ok {
			return nil, false, err
		}
		return &Lock{name: name, file: f}, true, nil
	}
	return nil, false, fmt.Errorf("locking %s: unsupported database %s", name, db.Dialect)
}

func (db *DB) tryAdvisoryLock(ctx context.Context, name string) (*Lock, bool, error) {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return nil, false, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("locking %s: %w", name, err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", db.lockKey(name)).Scan(&got); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("locking %s: %w", name, err)
	}
	if !got {
		conn.Close()
		return nil, false, nil
	}
	return &Lock{name: name, conn: conn}, true, nil
}

// lockKey is the advisory lock key of a named lease in this schema.
func (db *DB) lockKey(name string) int64 {
	return leaseLockBase ^ int64(crc32.ChecksumIEEE([]byte(name))) ^ (db.lockID << 32)
}

// ErrLockLost means a lock's holder can no longer prove it holds it.
var ErrLockLost = errors.New("the lock was lost")

// Check verifies that the lock is still held: on PostgreSQL its connection
// still answers (the server keeps a session lock exactly as long as the
// session). Callers check before every write that only the holder may make.
func (l *Lock) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return fmt.Errorf("%s: %w", l.name, ErrLockLost)
	}
	if l.conn == nil {
		return nil // a file lock lasts as long as this process
	}
	if err := l.conn.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: %w: %v", l.name, ErrLockLost, err)
	}
	return nil
}

// Release gives the lock up so another process can take it at once.
func (l *Lock) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return
	}
	l.released = true
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = l.conn.ExecContext(ctx, "SELECT pg_advisory_unlock_all()")
		_ = l.conn.Close()
	}
	if l.file != nil {
		l.file.unlock()
	}
}

// sqlitePath is the database file of a SQLite URL.
func (db *DB) sqlitePath() string {
	return strings.TrimPrefix(strings.TrimPrefix(db.URL, "sqlite:"), "//")
}
