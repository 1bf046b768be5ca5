package web

import (
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

func (s *Server) catalogJSON(c echo.Context, cat *grants.Catalog, etag string) error {
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("X-Catalog-Source", s.opts.CatalogStore.Source())
	h.Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, cat)
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
