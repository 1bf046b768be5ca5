package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// apiAuditExport downloads the audit log oldest first (chain order, with
// each event's prevHash and hash so that the chain can be checked offline)
// as CSV or one JSON array (format=, default json), between since=
// (inclusive) and until= (exclusive). It streams in batches: memory stays
// constant however long the log. The export itself is audited.
func (s *Server) apiAuditExport(c echo.Context) error {
	format := c.QueryParam("format")
	if format == "" {
		format = grants.AuditJSON
	}
	if format != grants.AuditCSV && format != grants.AuditJSON {
		return httpError(http.StatusBadRequest, "format must be csv or json, not "+strconv.Quote(format))
	}
	since, err := parseTime(c, "since")
	if err != nil {
		return err
	}
	until, err := parseTime(c, "until")
	if err != nil {
		return err
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		return httpError(http.StatusBadRequest, "until must be after since")
	}
	p, _ := person(c)
	details := map[string]any{"format": format}
	if !since.IsZero() {
		details["since"] = since.UTC()
	}
	if !until.IsZero() {
		details["until"] = until.UTC()
	}
	x := grants.AuditExport{Format: format, Since: since, Until: until, Flush: c.Response().Flush}
	return s.sendAuditExport(c, p.Email, format, details, x)
}
