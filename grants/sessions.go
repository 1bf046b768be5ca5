package grants

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/alexedwards/scs/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SessionEmailKey is the session value holding the signed-in person's
// email; the session store records it beside each session so that
// offboarding can delete all of a person's sessions.
const SessionEmailKey = "email"

// session is one scs session in the sessions table.
type session struct {
	Token  string `gorm:"primaryKey"`
	Data   []byte
	Expiry time.Time
	Email  string
}

func (session) TableName() string { return "sessions" }

// SessionStore keeps scs sessions in the portal database.
type SessionStore struct {
	db  *gorm.DB
	now func() time.Time
}

var _ scs.CtxStore = (*SessionStore)(nil)

// Sessions returns the scs store of browser sessions; now tells which
// sessions expired.
func (s *Store) Sessions(now func() time.Time) *SessionStore {
	return &SessionStore{db: s.db.DB, now: now}
}

// FindCtx returns the data of an unexpired session.
func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row session
	err := s.db.WithContext(ctx).Where("token = ? AND expiry > ?", token, s.now().UTC()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading session: %w", err)
	}
	return row.Data, true, nil
}

// CommitCtx writes a session, with the email signed in to it.
func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := session{Token: token, Data: b, Expiry: expiry.UTC()}
	if _, values, err := (scs.GobCodec{}).Decode(b); err == nil {
		row.Email, _ = values[SessionEmailKey].(string)
	}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "token"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expiry", "email"}),
	}).Create(&row).Error
}

// DeleteCtx deletes a session.
func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.db.WithContext(ctx).Where("token = ?", token).Delete(&session{}).Error
}

// Find is FindCtx without a context.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context.
func (s *SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expiry <= ?", now.UTC()).Delete(&session{})
	return res.RowsAffected, res.Error
}

// DeleteSessionsOf removes every session of a person, signing them out everywhere.
func (s *Store) DeleteSessionsOf(ctx context.Context, email string) (int64, error) {
	return deleteSessionsOf(s.db.WithContext(ctx), email)
}

// deleteSessionsOf deletes a person's sessions inside tx.
func deleteSessionsOf(tx *gorm.DB, email string) (int64, error) {
	res := tx.Where("email = ?", email).Delete(&session{})
	return res.RowsAffected, res.Error
}

// CleanSessions deletes expired sessions at once and then every interval
// until ctx ends.
func (s *Store) CleanSessions(ctx context.Context, interval time.Duration, now func() time.Time) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.DeleteExpiredSessions(ctx, now()); err != nil && ctx.Err() == nil {
			slog.Warn("deleting expired sessions", "err", err)
		} else if n > 0 {
			slog.Info("expired sessions deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
