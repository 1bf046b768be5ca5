package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// catalogGroupForm is the form to add a synced group (/admin/catalog/new-group)
// or to change the Okta group one follows (/admin/catalog/groups/:group/edit).
// The Okta group is chosen from the directory snapshot, searched with ?q=.
func (s *Server) catalogGroupForm(c echo.Context) error {
	if _, err := s.catalogRequireEditable(); err != nil {
		return err
	}
	cur, etag, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	key := c.Param("group")
	e := catalogEdit{Kind: editGroup, ETag: etag}
	if key != "" {
		okta, ok := cur.Groups[key]
		if !ok {
			return errCatalogNotFound("Synced group " + key)
		}
		e.Original, e.Group, e.Okta, e.Base = key, key, okta, cur.Version(editGroup, key)
	}
	if c.QueryParam("kind") == editGroup {
		// The search, or the preview's "Back", resubmitted the form.
		e = catalogEditFromForm(c.QueryParams())
		if key != "" {
			e.Original, e.Group = key, key
		}
	}
	return s.catalogRenderForm(c, http.StatusOK, e, cur, etag, nil, false)
}
