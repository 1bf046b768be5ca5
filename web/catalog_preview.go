package web

import (
	"net/http"

	"github.com/aymanbagabas/go-udiff"
	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// catalogPreview shows what an edit would change before it is saved: the
// catalog, in words and as a diff, and the exact diff of the tailnet policy
// file the reconciler would write.
func (s *Server) catalogPreview(c echo.Context) error {
	if _, err := s.catalogRequireEditable(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	e := catalogEditFromForm(c.FormValue)
	cur, etag, proposed, answered, err := s.proposeEdit(c, e)
	if answered || err != nil {
		return err
	}
	page := catalogPreviewPage{Edit: e, Summary: grants.Changes(cur, proposed)}
	if page.catalogHeader, err = s.catalogHeaderFor(c, etag); err != nil {
		return err
	}
	page.Title = "Preview"
	page.CatalogDiff = udiff.Unified("catalog (now)", "catalog (after saving)", string(cur.Format()), string(proposed.Format()))
	if page.Notes, err = s.catalogNotes(ctx, e, cur, proposed); err != nil {
		return err
	}
	if s.opts.PreviewCatalog == nil {
		page.PreviewError = "the policy preview is not available on this server"
	} else if plan, err := s.opts.PreviewCatalog(ctx, proposed); err != nil {
		page.PreviewError = err.Error()
	} else {
		page.Changes, page.Held = plan.Changes, plan.Held
		if len(plan.Changes) > 0 {
			page.PolicyDiff = plan.Diff()
		}
	}
	return s.render(c, http.StatusOK, "catalog_preview.html", page)
}
