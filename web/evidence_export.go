package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/evidence"
)

// EvidenceWriter writes the evidence packet of [since, until) as a zip to w
// (an evidence.Packet's Write, with the portal's configuration log and
// signing key).
type EvidenceWriter func(ctx context.Context, w io.Writer, since, until time.Time) (*evidence.Summary, error)

// apiEvidence answers GET /api/v1/evidence?since=&until= (admins): the
// period's evidence packet, streamed as a zip. The export is audited.
func (s *Server) apiEvidence(c echo.Context) error {
	p, _ := person(c)
	return s.sendEvidence(c, p.Email)
}

// adminEvidence is the dashboard's download of the same packet.
func (s *Server) adminEvidence(c echo.Context) error {
	p, _, err := s.sessionPerson(c)
	if err != nil {
		return err
	}
	return s.sendEvidence(c, p.Email)
}

// sendEvidence checks the period, audits the export and streams the zip.
func (s *Server) sendEvidence(c echo.Context, admin string) error {
	if s.opts.Evidence == nil {
		return httpError(http.StatusNotFound, "evidence packets are not available on this server")
	}
	since, err := periodEnd(c, "since")
	if err != nil {
		return err
	}
	until, err := periodEnd(c, "until")
	if err != nil {
		return err
	}
	if !since.Before(until) {
		return httpError(http.StatusBadRequest, "since must be before until")
	}
	ctx := c.Request().Context()
	err = s.store.AppendAudit(ctx, grants.Event{At: s.now(), Actor: admin, Action: "evidence.export", Target: "evidence packet",
		Details: map[string]any{"since": since.UTC(), "until": until.UTC()}})
	if err != nil {
		return err
	}
	name := fmt.Sprintf("evidence-%s-%s.zip", since.UTC().Format("20060102T150405Z"), until.UTC().Format("20060102T150405Z"))
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	sum, err := s.opts.Evidence(ctx, c.Response(), since, until)
	if err != nil {
		// The status is sent: a cut-short zip fails to open, which is the
		// only signal left to the client.
		slog.Log(context.WithoutCancel(ctx), levelFor(ctx), "evidence export cut short", "err", err)
		return nil
	}
	slog.InfoContext(ctx, "evidence packet exported", "admin", admin, "since", since, "until", until,
		"events", sum.AuditEvents, "grants", sum.Grants, "chain_ok", sum.ChainOK, "signed", sum.Signed)
	return nil
}

// periodEnd reads since= or until=: RFC 3339 or a date (midnight UTC).
func periodEnd(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, httpError(http.StatusBadRequest, name+" is required (RFC 3339 or a date such as 2026-03-01)")
	}
	t, err := evidence.ParseTime(v)
	if err != nil {
		return time.Time{}, httpError(http.StatusBadRequest, name+" "+strconv.Quote(v)+": "+err.Error())
	}
	return t, nil
}
