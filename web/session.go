package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ctxSessionLoaded marks an echo.Context whose request carries a session.
const ctxSessionLoaded = "portal.session"

// sessionEmailKey is the session value holding the signed-in person's email.
const sessionEmailKey = "email"

// sessionRow is one scs session in the sessions table of our migrations.
type sessionRow struct {
	Token  string `gorm:"primaryKey"`
	Data   []byte
	Expiry time.Time
	Email  string
}

func (sessionRow) TableName() string { return "sessions" }

// sessionStore keeps scs sessions in the portal database. It records the
// signed-in email beside each session so offboarding can delete them all.
type sessionStore struct {
	db  *gorm.DB
	now func() time.Time
}

var _ scs.CtxStore = (*sessionStore)(nil)

func (s *sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row sessionRow
	err := s.db.WithContext(ctx).Where("token = ? AND expiry > ?", token, s.now().UTC()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return row.Data, true, nil
}

func (s *sessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := sessionRow{Token: token, Data: b, Expiry: expiry.UTC()}
	if _, values, err := (scs.GobCodec{}).Decode(b); err == nil {
		row.Email, _ = values[sessionEmailKey].(string)
	}
	return s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "token"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expiry", "email"}),
	}).Create(&row).Error
}

func (s *sessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.db.WithContext(ctx).Where("token = ?", token).Delete(&sessionRow{}).Error
}

func (s *sessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s *sessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s *sessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// DeleteExpiredSessions removes sessions past their expiry.
func DeleteExpiredSessions(ctx context.Context, db *gorm.DB, now time.Time) (int64, error) {
	res := db.WithContext(ctx).Where("expiry <= ?", now.UTC()).Delete(&sessionRow{})
	return res.RowsAffected, res.Error
}

// DeleteSessionsOf removes every session of a person, signing them out everywhere.
func DeleteSessionsOf(ctx context.Context, db *gorm.DB, email string) (int64, error) {
	res := db.WithContext(ctx).Where("email = ?", email).Delete(&sessionRow{})
	return res.RowsAffected, res.Error
}

// newSessionManager configures scs: server-side sessions, HttpOnly cookie,
// Secure when the portal is served over https, SameSite=Lax.
func newSessionManager(db *gorm.DB, now func() time.Time, secure bool) *scs.SessionManager {
	sm := scs.New()
	sm.Store = &sessionStore{db: db, now: now}
	sm.Lifetime = 12 * time.Hour
	sm.IdleTimeout = 2 * time.Hour
	sm.Cookie.Name = "portal_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secure
	sm.Cookie.Persist = false
	return sm
}

// loadAndSaveSession is scs's LoadAndSave for echo. The session is committed
// and its cookie written just before the response headers go out, whether the
// handler wrote the response or returned an error for the error handler to
// render; a failed commit turns the response into a 500.
func loadAndSaveSession(sm *scs.SessionManager) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			// Bearer-token API calls carry no session.
			if req.Header.Get(echo.HeaderAuthorization) != "" {
				return next(c)
			}
			var token string
			if cookie, err := req.Cookie(sm.Cookie.Name); err == nil {
				token = cookie.Value
			}
			ctx, err := sm.Load(req.Context(), token)
			if err != nil {
				return err
			}
			c.SetRequest(req.WithContext(ctx))
			c.Set(ctxSessionLoaded, true)
			res := c.Response()
			res.Header().Add("Vary", "Cookie")
			res.Before(func() { commitSession(sm, c, res) })
			if err := next(c); err != nil {
				c.Error(err)
			}
			if !res.Committed {
				// The handler wrote nothing: send the headers (and cookie) now.
				res.WriteHeader(res.Status)
			}
			return nil
		}
	}
}

func commitSession(sm *scs.SessionManager, c echo.Context, res *echo.Response) {
	ctx := c.Request().Context()
	switch sm.Status(ctx) {
	case scs.Modified:
		token, expiry, err := sm.Commit(ctx)
		if err != nil {
			slog.ErrorContext(ctx, "committing session", "err", err)
			res.Status = http.StatusInternalServerError
			return
		}
		sm.WriteSessionCookie(ctx, res, token, expiry)
	case scs.Destroyed:
		sm.WriteSessionCookie(ctx, res, "", time.Time{})
	}
}
