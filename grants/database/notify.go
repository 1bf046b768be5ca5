package database

import (
	"context"
	"fmt"
	"hash/crc32"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// wakeChannel is the PostgreSQL notification channel on which replicas tell
// the lease holder that something changed; one per schema.
func (db *DB) wakeChannel() string {
	ch := "portal_wake"
	if u, err := url.Parse(db.URL); err == nil {
		if sp := u.Query().Get("search_path"); sp != "" {
			ch += fmt.Sprintf("_%08x", crc32.ChecksumIEEE([]byte(sp)))
		}
	}
	return ch
}

// Publish tells every replica that state changed (PostgreSQL NOTIFY), so the
// one running the background loops acts at once. On SQLite, where one
// process owns the database, it does nothing.
func (db *DB) Publish(ctx context.Context) error {
	if db.Dialect != Postgres {
		return nil
	}
	if err := db.WithContext(ctx).Exec("SELECT pg_notify(?, '')", db.wakeChannel()).Error; err != nil {
		return fmt.Errorf("notifying replicas: %w", err)
	}
	return nil
}

// Listen calls wake for every Publish of any replica until ctx ends. It
// keeps its own connection, reconnects after errors (waking once, since a
// notification may have been missed), and on SQLite only waits for ctx.
func (db *DB) Listen(ctx context.Context, wake func()) {
	if db.Dialect != Postgres {
		<-ctx.Done()
		return
	}
	backoff := time.Second
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		slog.Warn("listening for replica notifications", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
		wake()
	}
}

func (db *DB) listenOnce(ctx context.Context, wake func()) error {
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.wakeChannel()}.Sanitize()); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}
