package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// adminAuditPageSize is how many audit events one page lists.
const adminAuditPageSize = 50

// adminAuditPage is the audit log with filters, newest first.
type adminAuditPage struct {
	adminChrome
	Actor, Action, Target string
	Since, Until          adminTime
	Actions               []string
	Events                []adminAuditRow
	Newest, Newer, Older  string
	ExportCSV, ExportJSON string
	Filtered              bool
}

// adminAuditRow is one audit event.
type adminAuditRow struct {
	ID                             int64
	At                             adminTime
	Actor, Action, Target, Details string
}

// adminDetailsText is an event's details as compact JSON for people:
// without the \u003c escapes of stored JSON (the template escapes HTML).
func adminDetailsText(raw json.RawMessage) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return string(raw)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return string(raw)
	}
	return strings.TrimSpace(b.String())
}

// adminAuditFilter reads the filters of the audit page and its export:
// actor=, action=, target= (exact), since= and until= (RFC 3339, or a
// datetime-local form value or a date taken as UTC).
func adminAuditFilter(c echo.Context) (grants.AuditFilter, error) {
	f := grants.AuditFilter{
		Actor:  grants.NormalizeAuditActor(c.QueryParam("actor")),
		Action: strings.TrimSpace(c.QueryParam("action")),
		Target: strings.TrimSpace(c.QueryParam("target")),
	}
	var err error
	if f.Since, err = adminTimeParam(c, "since"); err != nil {
		return f, err
	}
	if f.Until, err = adminTimeParam(c, "until"); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, httpError(http.StatusBadRequest, "until must be after since")
	}
	return f, nil
}

// adminTimeLayouts are the forms a time filter may take, UTC unless it
// says otherwise.
var adminTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

// adminTimeParam parses an optional time query parameter.
func adminTimeParam(c echo.Context, name string) (time.Time, error) {
	v := strings.TrimSpace(c.QueryParam(name))
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range adminTimeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, httpError(http.StatusBadRequest, name+" must be a time such as 2026-01-02T15:04:05Z (UTC), not "+strconv.Quote(v))
}

// adminFilterQuery is the filter as query parameters, times in RFC 3339.
func adminFilterQuery(f grants.AuditFilter) url.Values {
	q := url.Values{"actor": {f.Actor}, "action": {f.Action}, "target": {f.Target}}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339))
	}
	return q
}

// adminAudit shows one page of the audit log. Paging is by event id
// (before= older, after= newer), so that every page is an index range
// however long the log.
func (s *Server) adminAudit(c echo.Context) error {
	f, err := adminAuditFilter(c)
	if err != nil {
		return err
	}
	before, err := adminCursor(c, "before")
	if err != nil {
		return err
	}
	after, err := adminCursor(c, "after")
	if err != nil {
		return err
	}
	if before > 0 && after > 0 {
		return httpError(http.StatusBadRequest, "use before or after, not both")
	}
	res, err := s.store.ListAuditPage(c.Request().Context(), grants.AuditPageQuery{
		AuditFilter: f, Before: before, After: after, Limit: adminAuditPageSize,
	})
	if err != nil {
		return err
	}
	page := adminAuditPage{
		Actor: f.Actor, Action: f.Action, Target: f.Target,
		Since: newAdminTime(f.Since), Until: newAdminTime(f.Until),
		Actions: grants.AuditActions, Filtered: !f.IsZero(),
	}
	for _, e := range res.Events {
		page.Events = append(page.Events, adminAuditRow{
			ID: e.ID, At: newAdminTime(e.At), Actor: e.Actor, Action: e.Action, Target: e.Target,
			Details: adminDetailsText(e.Record(false).Details),
		})
	}
	fq := adminFilterQuery(f)
	page.Newest = adminPageURL("/admin/audit", fq)
	if n := len(res.Events); n > 0 {
		if res.Newer {
			page.Newer = adminPageURL("/admin/audit", adminWithParam(fq, "after", fmt.Sprint(res.Events[0].ID)))
		}
		if res.Older {
			page.Older = adminPageURL("/admin/audit", adminWithParam(fq, "before", fmt.Sprint(res.Events[n-1].ID)))
		}
	}
	page.ExportCSV = adminPageURL("/admin/audit/export", adminWithParam(fq, "format", grants.AuditCSV))
	page.ExportJSON = adminPageURL("/admin/audit/export", adminWithParam(fq, "format", grants.AuditJSON))
	page.adminChrome = s.newAdminChrome(c, "/admin/audit")
	return s.render(c, http.StatusOK, "admin_audit.html", page)
}
