package web

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// answerRules marks every answer not to be stored by browsers or proxies
// (pages and API answers carry people's access; the static assets set
// their own long cache), and asks browsers to use HTTPS only when the
// portal's public URL is https.
func (s *Server) answerRules(next echo.HandlerFunc) echo.HandlerFunc {
	hsts := strings.HasPrefix(s.opts.BaseURL, "https://")
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		return next(c)
	}
}

// jsonBodies refuses with 415 a JSON API request whose body is not
// application/json: a form or text/plain body, which a browser sends across
// sites without asking, never reaches an API handler. (The catalog PUT,
// which no browser sends across sites, checks its own: JSON or HuJSON.)
func jsonBodies(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !hasBody(r) {
			return next(c)
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err == nil && mt == "application/json" {
			return next(c)
		}
		return httpError(http.StatusUnsupportedMediaType, "the request body must be application/json")
	}
}

// catalogBody refuses with 415 a catalog PUT whose body is declared as
// something else than JSON or HuJSON (an undeclared one is read as HuJSON).
func catalogBody(r *http.Request) error {
	ct := r.Header.Get(echo.HeaderContentType)
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || mt == "application/hujson") {
		return nil
	}
	return httpError(http.StatusUnsupportedMediaType, "the catalog must be sent as application/json (JSON or HuJSON)")
}

// hasBody reports whether r carries a body.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// sameScheme refuses a state-changing request whose Origin names this
// portal's host with another scheme (http:// against an https portal):
// the cross-origin protection compares hosts only.
func (s *Server) sameScheme(next http.Handler) http.Handler {
	base, err := url.Parse(s.opts.BaseURL)
	if err != nil || base.Scheme == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			origin := r.Header.Get("Origin")
			if o, err := url.Parse(origin); origin != "" && err == nil && o.Host == r.Host && o.Scheme != base.Scheme {
				http.Error(w, "cross-origin request refused: the Origin's scheme is not the portal's", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
