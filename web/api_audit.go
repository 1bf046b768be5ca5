package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// apiAudit lists audit events newest first (the most recent changes are
// what an admin looks for): since= (RFC 3339) keeps events at or after a
// time, before= (an event id) pages back, limit= caps the page (default
// 100, at most 1000).
func (s *Server) apiAudit(c echo.Context) error {
	since, err := parseTime(c, "since")
	if err != nil {
		return err
	}
	limit, err := intParam(c, "limit", 100, 1000)
	if err != nil {
		return err
	}
	var before int64
	if v := c.QueryParam("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before <= 0 {
			return httpError(http.StatusBadRequest, "before must be an audit event id, not "+strconv.Quote(v))
		}
	}
	events, err := s.store.ListAudit(c.Request().Context(), grants.AuditQuery{Since: since, Before: before, Limit: limit})
	if err != nil {
		return err
	}
	out := make([]grants.AuditRecord, len(events))
	for i := range events {
		out[i] = events[i].Record(false)
	}
	return c.JSON(http.StatusOK, out)
}

// auditWriter is an audit export: the API's or the dashboard's filtered one.
type auditWriter interface {
	Write(ctx context.Context, s *grants.Store, w io.Writer) (int, error)
}

// sendAuditExport audits the export (who, which format and filters), then
// streams it as a download. Once the status is sent a failure can only cut
// the download short (an unclosed JSON array shows it); why is logged.
func (s *Server) sendAuditExport(c echo.Context, actor, format string, details map[string]any, x auditWriter) error {
	ctx := c.Request().Context()
	if err := s.store.AppendAudit(ctx, grants.Event{At: s.now(), Actor: actor, Action: "audit.export", Target: "audit log", Details: details}); err != nil {
		return err
	}
	contentType := "application/json"
	if format == grants.AuditCSV {
		contentType = "text/csv; charset=utf-8"
	}
	name := fmt.Sprintf("audit-%s.%s", s.now().UTC().Format("20060102T150405Z"), format)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, contentType)
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	n, err := x.Write(ctx, s.store, c.Response())
	if err != nil {
		slog.Log(context.WithoutCancel(ctx), levelFor(ctx), "audit export cut short", "events", n, "err", err)
	}
	return nil
}

// levelFor logs a client that went away as a warning, anything else as an
// error.
func levelFor(ctx context.Context) slog.Level {
	if ctx.Err() != nil {
		return slog.LevelWarn
	}
	return slog.LevelError
}
