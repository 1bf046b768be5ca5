package web

import (
	"github.com/labstack/echo/v4"
)

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
