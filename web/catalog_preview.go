package web

import (
	"fmt"
	"net/http"

	"github.com/aymanbagabas/go-udiff"
	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/policyfile"
)

// catalogPreview shows what an edit would change before it is saved: the
// catalog, in words and as a diff, and the exact diff of the tailnet policy
// file the reconciler would write.
func (s *Server) catalogPreview(c echo.Context) error {
	if _, err := s.catalogRequireEditable(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return httpError(http.StatusBadRequest, "the form could not be read: "+err.Error())
	}
	e := catalogEditFromForm(form)
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
		page.Notes = append(page.Notes, unusedGroupNote(e, proposed, plan.New)...)
	}
	return s.render(c, http.StatusOK, "catalog_preview.html", page)
}

// unusedGroupNote warns when no rule of the policy (as the change leaves
// it) names the edited resource's Tailscale group: its grants would add
// people to a group that gives them nothing.
func unusedGroupNote(e catalogEdit, proposed *grants.Catalog, policy []byte) []string {
	r, ok := proposed.Resources[e.key()]
	if e.Kind != editResource || !ok {
		return nil
	}
	uses, err := policyfile.GroupUse(policy, r.Group)
	if err != nil {
		return []string{fmt.Sprintf("The tailnet policy could not be read to check that a rule names %s: %v", r.Group, err)}
	}
	if len(uses) > 0 {
		return nil
	}
	return []string{fmt.Sprintf("No rule of the tailnet policy names %s: a grant of %s would add people to it and give them nothing. Add an ACL or grant rule with %q in its src (for example {\"src\": [%q], \"dst\": [\"tag:db:5432\"]}).", r.Group, r.Name, r.Group, r.Group)}
}
