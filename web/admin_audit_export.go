package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// adminAuditExport downloads the filtered audit log oldest first, with each
// event's hashes, as CSV or JSON. Like the API's export it streams in
// batches and is itself audited, with the filters it used.
func (s *Server) adminAuditExport(c echo.Context) error {
	format := c.QueryParam("format")
	if format == "" {
		format = grants.AuditJSON
	}
	if format != grants.AuditCSV && format != grants.AuditJSON {
		return httpError(http.StatusBadRequest, "format must be csv or json, not "+strconv.Quote(format))
	}
	f, err := adminAuditFilter(c)
	if err != nil {
		return err
	}
	p, _, err := s.sessionPerson(c)
	if err != nil {
		return err
	}
	details := map[string]any{"format": format}
	for k, v := range adminFilterQuery(f) {
		if v[0] != "" {
			details[k] = v[0]
		}
	}
	return s.sendAuditExport(c, p.Email, format, details, grants.FilteredAuditExport{Format: format, Filter: f, Flush: c.Response().Flush})
}
