package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// catalogRemoveForm asks how to stop syncing a group: empty it, or leave
// it with its current members, unmanaged.
func (s *Server) catalogRemoveForm(c echo.Context) error {
	if _, err := s.catalogRequireEditable(); err != nil {
		return err
	}
	cur, etag, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	key := c.Param("group")
	okta, ok := cur.Groups[key]
	if !ok {
		return errCatalogNotFound("Synced group " + key)
	}
	e := catalogEdit{Kind: editGroupRemove, ETag: etag, Original: key, Group: key, Okta: okta, Base: cur.Version(editGroupRemove, key)}
	if c.QueryParam("kind") == editGroupRemove {
		e = catalogEditFromForm(c.QueryParams())
		e.Original, e.Group = key, key
	}
	return s.catalogRenderForm(c, http.StatusOK, e, cur, etag, nil, false)
}
