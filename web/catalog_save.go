package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// catalogSave saves an edit: one CatalogStore.Replace, audited with the
// catalog before and after, then a reconcile. Another admin's change to
// the same definition since the form was rendered is a conflict: the form
// comes back with their version and this admin's input.
func (s *Server) catalogSave(c echo.Context) error {
	st, err := s.catalogRequireEditable()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.catalogAdmin(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return httpError(http.StatusBadRequest, "the form could not be read: "+err.Error())
	}
	e := catalogEditFromForm(form)
	var summary []string
	for attempt := 1; ; attempt++ {
		cur, etag, proposed, answered, err := s.proposeEdit(c, e)
		if answered || err != nil {
			return err
		}
		_, err = st.Replace(ctx, "catalog", proposed.Format(), etag, p.Email, s.now())
		if errors.Is(err, grants.ErrStaleCatalog) && attempt < 3 {
			continue // a save elsewhere landed between the read and the write
		}
		if err != nil {
			return err
		}
		summary = grants.Changes(cur, proposed)
		break
	}
	s.wake()
	msg := "Saved. " + strings.Join(summary, " ")
	if len(summary) == 0 {
		msg = "Saved; the catalog did not change."
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, e.pageURL())
}
