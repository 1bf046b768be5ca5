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

// maxCatalogBody bounds the body of PUT /api/v1/catalog. The API's 64 KiB
// is too small for a whole catalog: 200 synced groups and 200 resources
// with every field come to about 100 KiB of HuJSON.
const maxCatalogBody = 1 << 20

// errNoCatalogStore answers catalog routes of a server built without a
// catalog store (tests of other features).
var errNoCatalogStore = httpError(http.StatusNotFound, "this portal has no catalog store")

// currentCatalog re-reads the database catalog (another replica may have
// changed it) and returns it with its ETag, read consistently.
func (s *Server) currentCatalog(c echo.Context) (*grants.Catalog, string, error) {
	st := s.opts.CatalogStore
	if err := st.Reload(c.Request().Context()); err != nil {
		return nil, "", err
	}
	for {
		etag := st.ETag()
		cat := st.Current()
		if st.ETag() == etag {
			return cat, etag, nil
		}
	}
}

// apiGetCatalog answers GET /api/v1/catalog: the catalog in use in the
// file's shape, with its ETag and where it comes from.
func (s *Server) apiGetCatalog(c echo.Context) error {
	if s.opts.CatalogStore == nil {
		return errNoCatalogStore
	}
	cat, etag, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	return s.catalogJSON(c, cat, etag)
}

func (s *Server) catalogJSON(c echo.Context, cat *grants.Catalog, etag string) error {
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("X-Catalog-Source", s.opts.CatalogStore.Source())
	h.Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, cat)
}

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
	p, _ := person(c)
	cat, err := st.Replace(c.Request().Context(), "catalog", body, match, p.Email, s.now())
	if err != nil {
		return err
	}
	s.wake()
	return s.catalogJSON(c, cat, st.ETag())
}

// catalogMatchETag applies an If-Match header (one ETag, a list, or *) to the
// current ETag. It returns the ETag to pass to CatalogStore.Replace: the
// current one, or "" for *. Weak ETags never match (RFC 9110 strong
// comparison).
func catalogMatchETag(header, current string) (string, bool) {
	for _, tag := range strings.Split(header, ",") {
		switch tag = strings.TrimSpace(tag); tag {
		case "*":
			return "", true
		case current:
			return current, true
		}
	}
	return "", false
}
