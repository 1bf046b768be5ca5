package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// catalogResourceForm is the form to create a resource
// (/admin/catalog/new-resource) or to edit one (/admin/catalog/resources/:name/edit).
func (s *Server) catalogResourceForm(c echo.Context) error {
	if _, err := s.catalogRequireEditable(); err != nil {
		return err
	}
	cur, etag, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	key := c.Param("name")
	e := catalogEdit{Kind: editResource, ETag: etag, RequireReason: true}
	if key != "" {
		r, ok := cur.Resources[key]
		if !ok {
			return errCatalogNotFound("Resource " + key)
		}
		e = catalogEditFromResource(r)
		e.ETag, e.Base = etag, cur.Version(editResource, key)
	}
	if c.QueryParam("kind") == editResource {
		e = catalogEditFromForm(c.QueryParams())
		if key != "" {
			e.Original, e.Name = key, key
		}
	}
	return s.catalogRenderForm(c, http.StatusOK, e, cur, etag, nil, false)
}
