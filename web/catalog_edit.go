package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/policyfile"
)

// Kinds of catalog edit a form carries (grants.Edit…).
const (
	editGroup           = grants.EditGroup
	editGroupRemove     = grants.EditGroupRemove
	editResource        = grants.EditResource
	editResourceRetire  = grants.EditResourceRetire
	editResourceRestore = grants.EditResourceRestore
	editAdmins          = grants.EditAdmins
)

// catalogEdit is one admin change to the database catalog, as its form
// carries it from page to page (form → preview → save). Every form carries
// the catalog's ETag and the version of the definition it was rendered
// from: a save on top of another admin's change to the same definition is a
// conflict; a save on top of a change elsewhere in the catalog goes through.
type catalogEdit struct {
	Kind string
	// ETag is the catalog's ETag when the form was first rendered.
	ETag string
	// Base is the grants.Catalog Version of the edited definition then; "" means it
	// did not exist.
	Base string
	// Original is the key being changed (a Tailscale group or a resource
	// name); "" when adding.
	Original string

	// Synced groups.
	Group, Okta, Removal, Q string

	// Admins are the admin Okta groups, one per line (EditAdmins).
	Admins string

	// Resources: the form's text, validated by the catalog parser.
	Name, Description, ResourceGroup        string
	Eligible, Approvers, AutoApprove        string // one Okta group per line
	Approvals, MaxDuration, DefaultDuration string
	RequireReason                           bool
	// Search is what the resource form's pickers search for, by field.
	Search map[string]string
}

// catalogResourceLists are the resource form's lists of Okta groups.
var catalogResourceLists = []string{"eligible", "approvers", "autoApprove"}

// catalogPickerFields are the catalog forms' lists of Okta groups, each
// chosen with a directory picker.
var catalogPickerFields = append(slices.Clone(catalogResourceLists), "admins")

// catalogEditFromForm reads an edit from form or query values. A list of
// Okta groups comes as one value per group (the pickers' checkboxes), or
// as lines of one value.
func catalogEditFromForm(v url.Values) catalogEdit {
	trim := func(name string) string { return strings.TrimSpace(v.Get(name)) }
	list := func(name string) string { return strings.Join(catalogLines(strings.Join(v[name], "\n")), "\n") }
	e := catalogEdit{
		Kind: trim("kind"), ETag: trim("etag"), Base: trim("base"), Original: trim("original"),
		Group: trim("group"), Okta: trim("okta"), Removal: trim("removal"), Q: v.Get("q"),
		Name: trim("name"), Description: trim("description"), ResourceGroup: trim("rgroup"),
		Eligible: list("eligible"), Approvers: list("approvers"), AutoApprove: list("autoApprove"),
		Admins:    list("admins"),
		Approvals: trim("approvals"), MaxDuration: trim("maxDuration"), DefaultDuration: trim("defaultDuration"),
		RequireReason: v.Get("requireReason") == "true",
	}
	for _, f := range catalogPickerFields {
		if q := trim("q-" + f); q != "" {
			if e.Search == nil {
				e.Search = map[string]string{}
			}
			e.Search[f] = q
		}
	}
	return e
}

// list is the value of a resource's list field, one Okta group per line.
func (e catalogEdit) list(field string) string {
	switch field {
	case "eligible":
		return e.Eligible
	case "approvers":
		return e.Approvers
	case "autoApprove":
		return e.AutoApprove
	case "admins":
		return e.Admins
	}
	return ""
}

// isResource says whether the edit changes a resource (else a group).
func (e catalogEdit) isResource() bool { return strings.HasPrefix(e.Kind, editResource) }

// key is the definition the edit changes.
func (e catalogEdit) key() string {
	switch {
	case e.Kind == editAdmins:
		return "admins"
	case e.Original != "":
		return e.Original
	case e.isResource():
		return e.Name
	}
	return e.Group
}

// catalogField is one hidden form field.
type catalogField struct{ Name, Value string }

// fields are every non-empty field of the edit, to carry it through a
// preview or back to its form.
func (e catalogEdit) fields() []catalogField {
	all := []catalogField{
		{"kind", e.Kind}, {"etag", e.ETag}, {"base", e.Base}, {"original", e.Original},
		{"group", e.Group}, {"okta", e.Okta}, {"removal", e.Removal},
		{"name", e.Name}, {"description", e.Description}, {"rgroup", e.ResourceGroup},
		{"eligible", e.Eligible}, {"approvers", e.Approvers}, {"autoApprove", e.AutoApprove},
		{"approvals", e.Approvals}, {"maxDuration", e.MaxDuration}, {"defaultDuration", e.DefaultDuration},
		{"admins", e.Admins},
	}
	if e.RequireReason {
		all = append(all, catalogField{"requireReason", "true"})
	}
	out := all[:0]
	for _, f := range all {
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

// formURL is the page of the edit's form, with the edit's values when
// withValues (the preview's "Back" link keeps what was typed).
func (e catalogEdit) formURL(withValues bool) string {
	var u string
	switch e.Kind {
	case editGroup:
		u = "/admin/catalog/new-group"
		if e.Original != "" {
			u = "/admin/catalog/groups/" + url.PathEscape(e.Original) + "/edit"
		}
	case editGroupRemove:
		u = "/admin/catalog/groups/" + url.PathEscape(e.key()) + "/remove"
	case editAdmins:
		u = "/admin/catalog/admins/edit"
	case editResource:
		u = "/admin/catalog/new-resource"
		if e.Original != "" {
			u = "/admin/catalog/resources/" + url.PathEscape(e.Original) + "/edit"
		}
	default:
		return e.pageURL()
	}
	if !withValues {
		return u
	}
	q := url.Values{}
	for _, f := range e.fields() {
		q.Set(f.Name, f.Value)
	}
	return u + "?" + q.Encode()
}

// pageURL is where the admin lands after saving the edit.
func (e catalogEdit) pageURL() string {
	switch e.Kind {
	case editGroup:
		return "/admin/catalog/groups/" + url.PathEscape(e.key())
	case editResource, editResourceRetire, editResourceRestore:
		return "/admin/catalog/resources/" + url.PathEscape(e.key())
	}
	return "/admin/catalog"
}

// conflicts reports whether the edit's definition changed since its form
// was rendered. A change elsewhere in the catalog is no conflict.
func (e catalogEdit) conflicts(cur *grants.Catalog, etag string) bool {
	return e.ETag != etag && e.Base != cur.Version(e.Kind, e.key())
}

// catalogFormError is what is wrong with an edit, next to the field it names.
type catalogFormError struct {
	// Field is the form field ("okta", "maxDuration", …); "" for the form.
	Field string
	Msg   string
}

func catalogFieldError(field, format string, args ...any) *catalogFormError {
	return &catalogFormError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// domain is the edit as the catalog applies it.
func (e catalogEdit) domain() grants.CatalogEdit {
	return grants.CatalogEdit{
		Kind: e.Kind, Key: e.key(), Adding: e.Original == "", Okta: e.Okta, Removal: e.Removal, Admins: catalogLines(e.Admins),
		Resource: grants.ResourceText{
			Description: e.Description, Group: e.ResourceGroup,
			Eligible: catalogLines(e.Eligible), Approvers: catalogLines(e.Approvers), AutoApprove: catalogLines(e.AutoApprove),
			Approvals: e.Approvals, MaxDuration: e.MaxDuration, DefaultDuration: e.DefaultDuration,
			RequireReason: e.RequireReason,
		},
	}
}

// apply returns the catalog cur would become with the edit, or what is
// wrong with it next to the form field it names.
func (e catalogEdit) apply(cur *grants.Catalog) (*grants.Catalog, *catalogFormError) {
	proposed, err := cur.Apply(e.domain())
	if err != nil {
		return nil, e.formError(err)
	}
	return proposed, nil
}

// formError places a catalog edit's error next to the form field it names.
func (e catalogEdit) formError(err error) *catalogFormError {
	var ee *grants.CatalogEditError
	if !errors.As(e.domain().EditError(err), &ee) {
		return catalogFieldError("", "%v", err)
	}
	field := ee.Field
	if e.isResource() && field == "group" {
		field = "rgroup"
	}
	return &catalogFormError{Field: field, Msg: ee.Msg}
}

// catalogLines splits a textarea into its non-blank lines, trimmed. Okta
// group names may hold commas, so lists are one name per line.
func catalogLines(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// catalogCheckEdit applies the rules that need the database: a resource
// whose people hold active grants keeps its Tailscale group (the grants
// name it), so moving it waits until they end or are revoked.
func (s *Server) catalogCheckEdit(ctx context.Context, e catalogEdit, cur, proposed *grants.Catalog) (*catalogFormError, error) {
	if e.Kind != editResource || e.Original == "" {
		return nil, nil
	}
	before, after := cur.Resources[e.Original], proposed.Resources[e.Original]
	if before.Group == after.Group {
		return nil, nil
	}
	n, err := s.store.CountActiveGrants(ctx, e.Original)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return catalogFieldError("rgroup", "resources.%s.group: %s has %d active grant(s) in %s; revoke them or let them expire before moving the resource to %s",
			e.Original, e.Original, n, before.Group, after.Group), nil
	}
	return nil, nil
}

// catalogFormPage is the data of the group, removal and resource forms.
type catalogFormPage struct {
	catalogHeader
	Edit     catalogEdit
	Error    *catalogFormError
	Conflict *catalogConflict
	// Pickers are the form's Okta group pickers, by field.
	Pickers map[string]catalogPicker
	// Applied is what the policy holds for the group (removal form).
	Applied   grants.AppliedGroup
	Confirmed bool
	// Retired says whether the resource is retired now (resource form).
	Retired bool
}

// Hidden are the fields that identify the edit and its version.
func (p catalogFormPage) Hidden() []catalogField {
	return []catalogField{{"kind", p.Edit.Kind}, {"etag", p.Edit.ETag}, {"base", p.Edit.Base}, {"original", p.Edit.Original}}
}

// FieldError is the error shown next to field, if it is about it.
func (p catalogFormPage) FieldError(field string) string {
	if p.Error != nil && p.Error.Field == field {
		return p.Error.Msg
	}
	return ""
}

// FormURL is the form's own page (the Okta search submits to it).
func (p catalogFormPage) FormURL() string { return p.Edit.formURL(false) }

// Picker is the Okta group picker of field, with its error.
func (p catalogFormPage) Picker(field string) catalogPicker {
	picker := p.Pickers[field]
	picker.Error = p.FieldError(field)
	return picker
}

// catalogPickerLabels are each picker's label and hint.
var catalogPickerLabels = map[string][2]string{
	"okta":        {"Okta group whose ACTIVE members it holds", ""},
	"eligible":    {"Who may request", "Okta groups; none chosen means anyone."},
	"approvers":   {"Approved by", "Okta groups; none chosen means the portal admins."},
	"autoApprove": {"Approved at once for", "Okta groups whose members need no approval."},
	"admins":      {"Admins", "Okta groups whose members administer the portal; at least one. You must stay in one of them."},
}

// fillPickers builds the form's pickers from what the edit holds.
func (s *Server) fillPickers(ctx context.Context, page *catalogFormPage) error {
	e := page.Edit
	fields := map[string]string{"okta": e.Okta}
	switch {
	case e.Kind == editAdmins:
		fields = map[string]string{"admins": e.Admins}
	case e.isResource():
		fields = map[string]string{}
		for _, f := range catalogResourceLists {
			fields[f] = e.list(f)
		}
	}
	page.Pickers = map[string]catalogPicker{}
	for field, value := range fields {
		l := catalogPickerLabels[field]
		p := catalogPicker{Field: field, Label: l[0], Hint: l[1], Q: e.Search[field], FormURL: page.FormURL()}
		if field == "okta" {
			p.Q = e.Q
		}
		if err := s.catalogFillPicker(ctx, &p, catalogLines(value)); err != nil {
			return err
		}
		page.Pickers[field] = p
	}
	return nil
}

// catalogConflict tells an admin that someone else changed the definition
// they were editing, and what it is now.
type catalogConflict struct {
	By, At string
	// Theirs describes the definition as it is now, line by line.
	Theirs []string
}

// catalogConflictFor describes the current version of the edit's definition.
func catalogConflictFor(h catalogHeader, e catalogEdit, cur *grants.Catalog) *catalogConflict {
	cf := &catalogConflict{By: "another admin"}
	if h.LastChange != nil {
		cf.By, cf.At = h.LastChange.Actor, catalogTime(h.LastChange.At)
	}
	key := e.key()
	if e.Kind == editAdmins {
		cf.Theirs = []string{"admins: " + strings.Join(cur.Admins, ", ")}
		return cf
	}
	if e.isResource() {
		r, ok := cur.Resources[key]
		if !ok {
			cf.Theirs = []string{"resource " + key + " is not in the catalog now"}
			return cf
		}
		cf.Theirs = catalogRules(r)
		return cf
	}
	switch okta, synced := cur.Groups[key]; {
	case synced:
		cf.Theirs = []string{fmt.Sprintf("%s follows Okta group %q", key, okta)}
	case slices.Contains(cur.KeepEmpty, key):
		cf.Theirs = []string{key + " is kept empty (no longer synced)"}
	default:
		cf.Theirs = []string{key + " is not managed by the catalog now"}
	}
	return cf
}

// catalogRules lists a resource's fields as "field: value" lines.
func catalogRules(r grants.Resource) []string {
	var lines []string
	for _, f := range grants.DescribeResource(r) {
		lines = append(lines, f.String())
	}
	return lines
}

// catalogEditFromResource fills a resource form from the catalog.
func catalogEditFromResource(r grants.Resource) catalogEdit {
	return catalogEdit{
		Kind: editResource, Original: r.Name, Name: r.Name, Description: r.Description, ResourceGroup: r.Group,
		Eligible: strings.Join(r.Eligible, "\n"), Approvers: strings.Join(r.Approvers, "\n"), AutoApprove: strings.Join(r.AutoApprove, "\n"),
		Approvals: strconv.Itoa(r.Approvals), MaxDuration: grants.FormatDuration(r.MaxDuration),
		DefaultDuration: grants.FormatDuration(r.DefaultDuration), RequireReason: r.RequireReason,
	}
}

// catalogRenderForm shows the edit's form again with what was typed: after
// an error (next to its field), or after a conflict (with the other
// admin's version, and the form moved onto it so that saving again applies
// this admin's input on top of theirs). Edits made by a button alone
// (retire, restore, stop managing) go back to their page with a message.
func (s *Server) catalogRenderForm(c echo.Context, code int, e catalogEdit, cur *grants.Catalog, etag string, ferr *catalogFormError, conflict bool) error {
	ctx := c.Request().Context()
	header, err := s.catalogHeaderFor(c, etag)
	if err != nil {
		return err
	}
	page := catalogFormPage{catalogHeader: header, Edit: e, Error: ferr}
	if conflict {
		page.Conflict = catalogConflictFor(header, e, cur)
		page.Edit.ETag, page.Edit.Base = etag, cur.Version(e.Kind, e.key())
	}
	switch e.Kind {
	case editGroup:
		page.Title = "Add a synced group"
		if e.Original != "" {
			page.Title = "Change " + e.Original
		}
		if err := s.fillPickers(ctx, &page); err != nil {
			return err
		}
		return s.render(c, code, "catalog_group_form.html", page)
	case editGroupRemove:
		page.Title = "Remove " + e.key()
		if page.Applied, page.Confirmed, err = s.store.LastApplied(ctx, e.key()); err != nil {
			return err
		}
		return s.render(c, code, "catalog_remove_form.html", page)
	case editAdmins:
		page.Title = "Change the admins"
		if err := s.fillPickers(ctx, &page); err != nil {
			return err
		}
		return s.render(c, code, "catalog_admins_form.html", page)
	case editResource:
		page.Title = "New resource"
		if e.Original != "" {
			page.Title = "Edit " + e.Original
		}
		page.Retired = cur.Resources[e.key()].Retired
		if err := s.fillPickers(ctx, &page); err != nil {
			return err
		}
		return s.render(c, code, "catalog_resource_form.html", page)
	}
	msg := "Not saved: "
	switch {
	case conflict:
		cf := page.Conflict
		msg += fmt.Sprintf("%s changed %s since you opened the page (%s). It is shown as it is now; try again if you still want to.", cf.By, e.key(), cf.At)
	case ferr != nil:
		msg += ferr.Msg
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, e.pageURL())
}

// catalogPreviewPage is the data of the preview of a catalog change.
type catalogPreviewPage struct {
	catalogHeader
	Edit    catalogEdit
	Summary []string
	Notes   []string
	// CatalogDiff is the change of the catalog's canonical text.
	CatalogDiff string
	// PolicyDiff is the unified diff of the tailnet policy file, the same
	// as `portal sync --dry-run` prints after the change.
	PolicyDiff   string
	Changes      []policyfile.GroupChange
	Held         []string
	PreviewError string
}

// Hidden carries the whole edit to the save.
func (p catalogPreviewPage) Hidden() []catalogField { return p.Edit.fields() }

// catalogDiffLine is one line of a unified diff, classed for colour.
type catalogDiffLine struct{ Class, Text string }

// catalogDiffLines splits a unified diff into classed lines.
func catalogDiffLines(diff string) []catalogDiffLine {
	var out []catalogDiffLine
	for _, line := range strings.Split(strings.TrimSuffix(diff, "\n"), "\n") {
		class := "ctx"
		switch {
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
			class = "file"
		case strings.HasPrefix(line, "@@"):
			class = "hunk"
		case strings.HasPrefix(line, "+"):
			class = "add"
		case strings.HasPrefix(line, "-"):
			class = "del"
		}
		out = append(out, catalogDiffLine{Class: class, Text: line})
	}
	return out
}

// PolicyDiffLines is the policy diff, line by line.
func (p catalogPreviewPage) PolicyDiffLines() []catalogDiffLine {
	return catalogDiffLines(p.PolicyDiff)
}

// CatalogDiffLines is the catalog diff, line by line.
func (p catalogPreviewPage) CatalogDiffLines() []catalogDiffLine {
	return catalogDiffLines(p.CatalogDiff)
}

// BackURL returns to the form with what was typed.
func (p catalogPreviewPage) BackURL() string { return p.Edit.formURL(true) }

// proposeEdit reads the current catalog and applies the edit to it. When
// the edit conflicts with another admin's change or is wrong, it answers
// with the form (answered is true; err is the answer's).
func (s *Server) proposeEdit(c echo.Context, e catalogEdit) (cur *grants.Catalog, etag string, proposed *grants.Catalog, answered bool, err error) {
	cur, etag, err = s.currentCatalog(c)
	if err != nil {
		return nil, "", nil, false, err
	}
	if e.conflicts(cur, etag) {
		return nil, "", nil, true, s.catalogRenderForm(c, http.StatusConflict, e, cur, etag, nil, true)
	}
	proposed, ferr := e.apply(cur)
	if ferr == nil {
		if ferr, err = s.catalogCheckEdit(c.Request().Context(), e, cur, proposed); err != nil {
			return nil, "", nil, false, err
		}
	}
	if ferr == nil {
		// A name the directory does not know is refused before the save.
		err := s.opts.CatalogStore.CheckOktaGroups(c.Request().Context(), cur, proposed)
		var ce *grants.CatalogError
		switch {
		case errors.As(err, &ce):
			ferr = e.formError(ce)
		case err != nil:
			return nil, "", nil, false, err
		}
	}
	if ferr == nil && e.Kind == editAdmins {
		// One click must not end the author's own admin access.
		p, err := s.catalogAdmin(c)
		if err != nil {
			return nil, "", nil, false, err
		}
		if !p.InAny(proposed.Admins) {
			mine := slices.DeleteFunc(slices.Clone(cur.Admins), func(g string) bool { return !p.InAny([]string{g}) })
			ferr = catalogFieldError("admins", "you are in none of these groups, so saving would end your own admin access: keep %s, or ask another admin to make this change", strings.Join(mine, " or "))
		}
	}
	if ferr == nil && e.Kind == editResource {
		if msg, _ := s.checkOnCallEdit(c, cur, proposed); msg != "" {
			ferr = catalogFieldError("name", "%s", msg)
		}
	}
	if ferr != nil {
		return nil, "", nil, true, s.catalogRenderForm(c, http.StatusBadRequest, e, cur, etag, ferr, false)
	}
	return cur, etag, proposed, false, nil
}

// catalogNotes warns about what the preview cannot show: Okta groups the
// directory snapshot does not know, and synced groups whose Okta members
// the portal has not read yet (it reads only groups the catalog names).
func (s *Server) catalogNotes(ctx context.Context, e catalogEdit, cur, proposed *grants.Catalog) ([]string, error) {
	var named []string
	switch e.Kind {
	case editAdmins:
		named = slices.Clone(proposed.Admins)
	case editGroup:
		named = []string{e.Okta}
	case editResource:
		r := proposed.Resources[e.key()]
		named = slices.Concat(r.Eligible, r.Approvers, r.AutoApprove)
	}
	slices.Sort(named)
	named = slices.Compact(named)
	sizes, err := s.store.DirectoryGroupSizes(ctx, named)
	if err != nil {
		return nil, err
	}
	var notes []string
	for _, name := range named {
		switch {
		case sizes[name].Groups == 0:
			notes = append(notes, fmt.Sprintf("Okta group %q is not in the directory snapshot: check its spelling. It matches nobody until Okta has it.", name))
		case e.Kind == editGroup && !slices.Contains(cur.OktaGroups(), name):
			// The poller reads the members of the groups the catalog names
			// only: those of another group are missing or old.
			if sizes[name].Memberships == 0 {
				notes = append(notes, fmt.Sprintf("The portal has not read the members of %q yet (it reads only the Okta groups the catalog names), so this preview shows %s without them. After saving, the next Okta poll reads them and the reconciler adds them.", name, e.key()))
			} else {
				notes = append(notes, fmt.Sprintf("The members of %q shown here are from when the portal last read them (it reads only the Okta groups the catalog names). After saving, the next Okta poll refreshes them.", name))
			}
		}
	}
	return notes, nil
}
