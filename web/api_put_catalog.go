package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// apiPutCatalog answers PUT /api/v1/catalog: the whole catalog (JSON or
// HuJSON) replaces the database catalog, audited with before and after.
//
// If-Match is required (428 without it): a script must say which version it
// edited, so that it never overwrites an admin's change unseen. "If-Match: *"
// replaces whatever is there, deliberately. A stale ETag or a file-managed
// catalog is 409; an invalid catalog is 400 with the start-up message.
func (s *Server) apiPutCatalog(c echo.Context) error {
	st := s.opts.CatalogStore
	if st == nil {
		return errNoCatalogStore
	}
	if st.Source() == grants.CatalogFromFile {
		return httpError(http.StatusConflict, "the catalog is managed in the file "+st.Path()+" (PORTAL_CATALOG); edit the file instead")
	}
	if err := catalogBody(c.Request()); err != nil {
		return err
	}
	ifMatch := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if ifMatch == "" {
		return httpError(http.StatusPreconditionRequired, "If-Match is required: send the ETag from GET /api/v1/catalog (or * to replace whatever catalog is there)")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		// The body limit's reader fails with echo's 413.
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
			return httpError(http.StatusRequestEntityTooLarge, "the catalog is larger than 1 MiB")
		}
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return httpError(http.StatusBadRequest, "the body must be the whole catalog; an empty catalog is written {}")
	}
	_, current, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	match, ok := catalogMatchETag(ifMatch, current)
	if !ok {
		return httpError(http.StatusConflict, "the catalog changed since you read it (If-Match "+ifMatch+", current ETag "+current+"); GET it again, re-apply your change and PUT with the new ETag")
	}
	if proposed, err := grants.ParseCatalog("catalog", body); err == nil {
		if msg, code := s.checkOnCallEdit(c, s.opts.Catalog(), proposed); msg != "" {
			return httpError(code, msg)
		}
	}
	p, _ := person(c)
	cat, err := st.Replace(c.Request().Context(), "catalog", body, match, p.Email, s.now())
	if err != nil {
		return err
	}
	s.wake()
	return s.catalogJSON(c, cat, st.ETag())
}
