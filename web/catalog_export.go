package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// catalogExport downloads the catalog in use as HuJSON, as
// `portal catalog export` prints it.
func (s *Server) catalogExport(c echo.Context) error {
	if _, err := s.catalogStore(); err != nil {
		return err
	}
	cat, etag, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="catalog.hujson"`)
	h.Set("ETag", etag)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", cat.Format())
}
