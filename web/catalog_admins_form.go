package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// catalogAdminsForm is the form to change the Okta groups whose members
// administer the portal (/admin/catalog/admins/edit), chosen with the
// directory picker.
func (s *Server) catalogAdminsForm(c echo.Context) error {
	if _, err := s.catalogRequireEditable(); err != nil {
		return err
	}
	cur, etag, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	e := catalogEdit{Kind: editAdmins, ETag: etag, Base: cur.Version(editAdmins, "admins"), Admins: strings.Join(cur.Admins, "\n")}
	if c.QueryParam("kind") == editAdmins {
		// The search, or the preview's "Back", resubmitted the form.
		e = catalogEditFromForm(c.QueryParams())
	}
	return s.catalogRenderForm(c, http.StatusOK, e, cur, etag, nil, false)
}
