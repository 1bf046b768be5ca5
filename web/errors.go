package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// errorPage is the data of the HTML error page.
type errorPage struct {
	Status  int
	Title   string
	Message string
}

// handleError is the one place where errors become responses: JSON
// {"error": …} under /api/ and /hooks/, an HTML page elsewhere. Errors that
// are not *echo.HTTPError are logged and shown as a plain 500.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := http.StatusInternalServerError
	msg := "internal error; it has been logged"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		switch m := he.Message.(type) {
		case string:
			msg = m
		case error:
			msg = m.Error()
		default:
			msg = http.StatusText(code)
		}
		if he.Internal != nil {
			slog.WarnContext(c.Request().Context(), "request failed", "status", code, "err", he.Internal, "path", c.Request().URL.Path)
		}
	} else {
		slog.ErrorContext(c.Request().Context(), "request failed", "err", err, "method", c.Request().Method, "path", c.Request().URL.Path)
	}
	if code == http.StatusInternalServerError && he == nil {
		msg = "internal error; it has been logged"
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(code)
		return
	}
	if wantsJSON(c.Request()) {
		c.JSON(code, map[string]string{"error": msg})
		return
	}
	s.render(c, code, "error.html", errorPage{Status: code, Title: http.StatusText(code), Message: msg})
}

// wantsJSON reports whether a request is for the API rather than a page.
func wantsJSON(r *http.Request) bool {
	p := r.URL.Path
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/hooks/")
}

// httpError builds an error the error handler renders with this status and message.
func httpError(code int, msg string) *echo.HTTPError {
	return echo.NewHTTPError(code, msg)
}
