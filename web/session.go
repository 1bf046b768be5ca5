package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// ctxSessionLoaded marks an echo.Context whose request carries a session.
const ctxSessionLoaded = "portal.session"

// sessionEmailKey is the session value holding the signed-in person's email.
const sessionEmailKey = grants.SessionEmailKey

// sessionUserIDKey is the session value holding the signed-in person's
// Okta user id: who the session is.
const sessionUserIDKey = "okta_user_id"

// newSessionManager configures scs: server-side sessions, HttpOnly cookie,
// Secure when the portal is served over https, SameSite=Lax.
func newSessionManager(store scs.CtxStore, secure bool) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
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
