package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// errorPage is the data of the HTML error page.
type errorPage struct {
	Status  int
	Title   string
	Message string
}

// refusalStatus is the table from a kind of domain refusal to the status
// it answers with. A refusal's message is meant for the person who asked
// and is shown as is.
var refusalStatus = []struct {
	kind error
	code int
}{
	{grants.ErrInvalid, http.StatusBadRequest},
	{grants.ErrForbidden, http.StatusForbidden},
	{grants.ErrNotFound, http.StatusNotFound},
	{grants.ErrConflict, http.StatusConflict},
	{grants.ErrStaleCatalog, http.StatusConflict},
	{grants.ErrCatalogFromFile, http.StatusConflict},
}

// internalMessage is what a 500 says: the cause is logged, not shown.
const internalMessage = "internal error; it has been logged"

// statusOf says how err is answered: an *echo.HTTPError with its status
// and message, a domain refusal (*grants.Refusal, *grants.CatalogError or
// a kind in refusalStatus) with the table's status and its own message.
// Anything else is a 500; known is false for it.
func statusOf(err error) (code int, msg string, known bool) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch m := he.Message.(type) {
		case string:
			return he.Code, m, true
		case error:
			return he.Code, m.Error(), true
		}
		return he.Code, http.StatusText(he.Code), true
	}
	var ce *grants.CatalogError
	if errors.As(err, &ce) {
		return http.StatusBadRequest, ce.Error(), true
	}
	msg = err.Error()
	var r *grants.Refusal
	if errors.As(err, &r) {
		msg = r.Msg
	}
	for _, row := range refusalStatus {
		if errors.Is(err, row.kind) {
			return row.code, msg, true
		}
	}
	return http.StatusInternalServerError, internalMessage, false
}

// clientError is statusOf for the errors a form shows next to the typed
// values: ok is false for no error and for server errors, which stay
// errors.
func clientError(err error) (code int, msg string, ok bool) {
	if err == nil {
		return 0, "", false
	}
	code, msg, known := statusOf(err)
	if !known || code >= http.StatusInternalServerError {
		return 0, "", false
	}
	return code, msg, true
}

// handleError is the one place where errors become responses: JSON
// {"error": …} under /api/ and /hooks/, an HTML page elsewhere. Handlers
// return domain errors as they are; errors statusOf does not know are
// logged and shown as a plain 500.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg, known := statusOf(err)
	var he *echo.HTTPError
	switch {
	case !known:
		slog.ErrorContext(c.Request().Context(), "request failed", "err", err, "method", c.Request().Method, "path", c.Request().URL.Path)
	case errors.As(err, &he) && he.Internal != nil:
		slog.WarnContext(c.Request().Context(), "request failed", "status", code, "err", he.Internal, "path", c.Request().URL.Path)
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
