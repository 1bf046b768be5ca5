package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aymanbagabas/go-udiff"
	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
	psync "github.com/accessportal/portal/sync"
)

// Kinds of catalog edit a form carries.
const (
	editGroup           = "group"             // add a synced group, or change its Okta group
	editGroupRemove     = "group-remove"      // stop syncing a group: empty it, or leave its members
	editKeepEmptyRemove = "keep-empty-remove" // stop managing a group kept empty
	editResource        = "resource"          // create or edit a resource
	editResourceRetire  = "resource-retire"   // no new requests
	editResourceRestore = "resource-restore"  // take requests again
)

// Answers to "empty the Tailscale group or leave it?" when a mapping is removed.
const (
	removalEmpty = "empty"
	removalLeave = "leave"
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
	// Base is catalogVersion of the edited definition then; "" means it
	// did not exist.
	Base string
	// Original is the key being changed (a Tailscale group or a resource
	// name); "" when adding.
	Original string

	// Synced groups.
	Group, Okta, Removal, Q string

	// Resources: the form's text, validated by the catalog parser.
	Name, Description, ResourceGroup        string
	Eligible, Approvers, AutoApprove        string // one Okta group per line
	Approvals, MaxDuration, DefaultDuration string
	RequireReason                           bool
}

// catalogEditFromForm reads an edit from form or query values.
func catalogEditFromForm(get func(string) string) catalogEdit {
	trim := func(name string) string { return strings.TrimSpace(get(name)) }
	return catalogEdit{
		Kind: trim("kind"), ETag: trim("etag"), Base: trim("base"), Original: trim("original"),
		Group: trim("group"), Okta: trim("okta"), Removal: trim("removal"), Q: get("q"),
		Name: trim("name"), Description: trim("description"), ResourceGroup: trim("rgroup"),
		Eligible: get("eligible"), Approvers: get("approvers"), AutoApprove: get("autoApprove"),
		Approvals: trim("approvals"), MaxDuration: trim("maxDuration"), DefaultDuration: trim("defaultDuration"),
		RequireReason: get("requireReason") == "true",
	}
}

// isResource says whether the edit changes a resource (else a group).
func (e catalogEdit) isResource() bool { return strings.HasPrefix(e.Kind, editResource) }

// key is the definition the edit changes.
func (e catalogEdit) key() string {
	switch {
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

// catalogVersion identifies one definition of the catalog as it is: "" when
// the catalog lacks it. Groups: the Okta group it follows, or "empty" when
// kept empty; resources: a hash of the resource's canonical form.
func catalogVersion(cat *grants.Catalog, kind, key string) string {
	if strings.HasPrefix(kind, editResource) {
		r, ok := cat.Resources[key]
		if !ok {
			return ""
		}
		one := grants.Catalog{Resources: map[string]grants.Resource{key: r}}
		sum := sha256.Sum256(one.Format())
		return "resource:" + hex.EncodeToString(sum[:8])
	}
	if okta, ok := cat.Groups[key]; ok {
		return "synced:" + okta
	}
	if slices.Contains(cat.KeepEmpty, key) {
		return "empty"
	}
	return ""
}

// conflicts reports whether the edit's definition changed since its form
// was rendered. A change elsewhere in the catalog is no conflict.
func (e catalogEdit) conflicts(cur *grants.Catalog, etag string) bool {
	return e.ETag != etag && e.Base != catalogVersion(cur, e.Kind, e.key())
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

// catalogJSON is the catalog in the file's JSON shape, split into the
// sections the dashboard edits and the rest (admins, offboarding, any
// section added later), which an edit carries through untouched. Edits are
// applied to this text so that the catalog parser validates the result
// with the file's messages.
type catalogJSON struct {
	Groups    map[string]string
	Resources map[string]map[string]any
	KeepEmpty []string
	Rest      map[string]json.RawMessage
}

// decodeCatalogJSON splits a catalog's JSON into its sections.
func decodeCatalogJSON(raw []byte) (*catalogJSON, error) {
	c := &catalogJSON{Groups: map[string]string{}, Resources: map[string]map[string]any{}}
	if err := json.Unmarshal(raw, &c.Rest); err != nil {
		return nil, err
	}
	for key, v := range map[string]any{"groups": &c.Groups, "resources": &c.Resources, "keepEmpty": &c.KeepEmpty} {
		text, ok := c.Rest[key]
		delete(c.Rest, key)
		if !ok {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber() // approvals stay the numbers they are
		if err := dec.Decode(v); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	return c, nil
}

// encode joins the sections again.
func (c *catalogJSON) encode() ([]byte, error) {
	out := make(map[string]any, len(c.Rest)+3)
	for k, v := range c.Rest {
		out[k] = v
	}
	out["groups"], out["resources"] = c.Groups, c.Resources
	if len(c.KeepEmpty) > 0 {
		out["keepEmpty"] = c.KeepEmpty
	}
	return json.Marshal(out)
}

// apply returns the catalog cur would become with the edit. What the form
// typed goes through grants.ParseCatalog, so every field is validated with
// the same rules and messages as the catalog file.
func (e catalogEdit) apply(cur *grants.Catalog) (*grants.Catalog, *catalogFormError) {
	raw, err := cur.MarshalJSON()
	if err != nil {
		return nil, catalogFieldError("", "reading the catalog: %v", err)
	}
	root, err := decodeCatalogJSON(raw)
	if err != nil {
		return nil, catalogFieldError("", "reading the catalog: %v", err)
	}
	key := e.key()
	dropKeepEmpty := func() { root.KeepEmpty = slices.DeleteFunc(root.KeepEmpty, func(g string) bool { return g == key }) }
	switch e.Kind {
	case editGroup:
		okta, synced := root.Groups[key]
		switch {
		case e.Original == "" && synced:
			return nil, catalogFieldError("group", "groups.%s: %s already follows Okta group %q; change that mapping instead", key, key, okta)
		case e.Original != "" && !synced:
			return nil, catalogFieldError("", "%s is no longer a synced group of the catalog", key)
		}
		root.Groups[key] = e.Okta
		dropKeepEmpty() // syncing a group kept empty fills it again
	case editGroupRemove:
		if _, synced := root.Groups[key]; !synced {
			return nil, catalogFieldError("", "%s is no longer a synced group of the catalog", key)
		}
		delete(root.Groups, key)
		switch e.Removal {
		case removalEmpty:
			root.KeepEmpty = append(root.KeepEmpty, key)
		case removalLeave:
		default:
			return nil, catalogFieldError("removal", "choose whether to empty %s or to leave it with its current members", key)
		}
	case editKeepEmptyRemove:
		if !slices.Contains(root.KeepEmpty, key) {
			return nil, catalogFieldError("", "%s is no longer kept empty", key)
		}
		dropKeepEmpty()
	case editResource:
		obj := e.resourceObject()
		old, exists := root.Resources[key]
		switch {
		case e.Original == "" && exists:
			return nil, catalogFieldError("name", "resources.%s: a resource named %s already exists", key, key)
		case e.Original != "" && !exists:
			return nil, catalogFieldError("", "resource %s is no longer in the catalog", key)
		case exists && old["retired"] != nil:
			obj["retired"] = old["retired"] // retiring is its own action
		}
		root.Resources[key] = obj
	case editResourceRetire, editResourceRestore:
		obj, exists := root.Resources[key]
		if !exists {
			return nil, catalogFieldError("", "resource %s is no longer in the catalog", key)
		}
		delete(obj, "retired")
		if e.Kind == editResourceRetire {
			obj["retired"] = true
		}
	default:
		return nil, catalogFieldError("", "unknown catalog change %q", e.Kind)
	}
	body, err := root.encode()
	if err != nil {
		return nil, catalogFieldError("", "encoding the catalog: %v", err)
	}
	proposed, err := grants.ParseCatalog("catalog", body)
	var ce *grants.CatalogError
	if errors.As(err, &ce) {
		return nil, &catalogFormError{Field: e.fieldOf(ce), Msg: catalogFormMessage(ce)}
	}
	if err != nil {
		return nil, catalogFieldError("", "%v", err)
	}
	return proposed, nil
}

// resourceObject is the resource the form describes, in the file's shape,
// with the text as typed: the parser judges it. Empty fields are left out,
// so that the file's defaults apply.
func (e catalogEdit) resourceObject() map[string]any {
	obj := map[string]any{"requireReason": e.RequireReason}
	set := func(key, value string) {
		if value != "" {
			obj[key] = value
		}
	}
	set("description", e.Description)
	set("group", e.ResourceGroup)
	set("maxDuration", e.MaxDuration)
	set("defaultDuration", e.DefaultDuration)
	for key, text := range map[string]string{"eligible": e.Eligible, "approvers": e.Approvers, "autoApprove": e.AutoApprove} {
		if list := catalogLines(text); len(list) > 0 {
			obj[key] = list
		}
	}
	if e.Approvals != "" {
		// A number goes in as a number (the parser says what is wrong
		// with 0 or 1.5); anything else as the string it is.
		if json.Valid([]byte(e.Approvals)) && strings.ContainsAny(e.Approvals[:1], "-0123456789") {
			obj["approvals"] = json.Number(e.Approvals)
		} else {
			obj["approvals"] = e.Approvals
		}
	}
	return obj
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

// fieldOf names the form field a catalog error is about.
func (e catalogEdit) fieldOf(ce *grants.CatalogError) string {
	if !e.isResource() {
		if strings.Contains(ce.Msg, "Okta group") {
			return "okta"
		}
		return "group"
	}
	rest, ok := strings.CutPrefix(ce.Key, "resources."+e.key())
	if !ok {
		return ""
	}
	rest = strings.TrimPrefix(rest, ".")
	if i := strings.IndexByte(rest, '['); i >= 0 {
		rest = rest[:i]
	}
	switch rest {
	case "":
		return "name"
	case "group":
		return "rgroup"
	}
	return rest
}

// catalogLineReference matches the file positions in catalog messages, which mean
// nothing on a form.
var catalogLineReference = regexp.MustCompile(` \((first )?on line \d+\)|, line \d+| \(line \d+\)`)

// catalogFormMessage is a catalog error as a form shows it: the key and the
// file's message, without lines of a file the admin never saw.
func catalogFormMessage(ce *grants.CatalogError) string {
	msg := catalogLineReference.ReplaceAllString(ce.Msg, "")
	if ce.Key == "" {
		return msg
	}
	return ce.Key + ": " + msg
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
	// Choices are the Okta groups offered (group form).
	Choices []catalogOktaChoice
	// Applied is what the policy holds for the group (removal form).
	Applied   psync.AppliedGroup
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
	if e.isResource() {
		r, ok := cur.Resources[key]
		if !ok {
			cf.Theirs = []string{"resource " + key + " is not in the catalog now"}
			return cf
		}
		cf.Theirs = catalogDescribeResource(r)
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

// catalogDescribeResource lists a resource's fields as "field: value" lines.
func catalogDescribeResource(r grants.Resource) []string {
	list := func(l []string) string {
		if len(l) == 0 {
			return "—"
		}
		return strings.Join(l, ", ")
	}
	lines := []string{
		"description: " + r.Description,
		"group: " + r.Group,
		"eligible: " + list(r.Eligible),
		"approvers: " + list(r.Approvers),
		"approvals: " + strconv.Itoa(r.Approvals),
		"autoApprove: " + list(r.AutoApprove),
		"maxDuration: " + grants.FormatDuration(r.MaxDuration),
		"defaultDuration: " + grants.FormatDuration(r.DefaultDuration),
		"requireReason: " + strconv.FormatBool(r.RequireReason),
	}
	if r.Retired {
		lines = append(lines, "retired: true")
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
		e.Original, e.Group, e.Okta, e.Base = key, key, okta, catalogVersion(cur, editGroup, key)
	}
	if c.QueryParam("kind") == editGroup {
		// The search, or the preview's "Back", resubmitted the form.
		e = catalogEditFromForm(c.QueryParam)
		if key != "" {
			e.Original, e.Group = key, key
		}
	}
	return s.catalogRenderForm(c, http.StatusOK, e, cur, etag, nil, false)
}

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
	e := catalogEdit{Kind: editGroupRemove, ETag: etag, Original: key, Group: key, Okta: okta, Base: catalogVersion(cur, editGroupRemove, key)}
	if c.QueryParam("kind") == editGroupRemove {
		e = catalogEditFromForm(c.QueryParam)
		e.Original, e.Group = key, key
	}
	return s.catalogRenderForm(c, http.StatusOK, e, cur, etag, nil, false)
}

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
		e.ETag, e.Base = etag, catalogVersion(cur, editResource, key)
	}
	if c.QueryParam("kind") == editResource {
		e = catalogEditFromForm(c.QueryParam)
		if key != "" {
			e.Original, e.Name = key, key
		}
	}
	return s.catalogRenderForm(c, http.StatusOK, e, cur, etag, nil, false)
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
		page.Edit.ETag, page.Edit.Base = etag, catalogVersion(cur, e.Kind, e.key())
	}
	switch e.Kind {
	case editGroup:
		page.View, page.Title = "group-form", "Add a synced group"
		if e.Original != "" {
			page.Title = "Change " + e.Original
		}
		if page.Choices, err = s.catalogSearchOktaGroups(ctx, e.Q, e.Okta); err != nil {
			return err
		}
		return s.render(c, code, "catalog.html", page)
	case editGroupRemove:
		page.View, page.Title = "remove-form", "Remove "+e.key()
		if page.Applied, page.Confirmed, err = psync.LastApplied(ctx, s.store.DB().DB, e.key()); err != nil {
			return err
		}
		return s.render(c, code, "catalog.html", page)
	case editResource:
		page.View, page.Title = "resource-form", "New resource"
		if e.Original != "" {
			page.Title = "Edit " + e.Original
		}
		page.Retired = cur.Resources[e.key()].Retired
		return s.render(c, code, "catalog.html", page)
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
	Changes      []psync.GroupChange
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

// catalogPreview shows what an edit would change before it is saved: the
// catalog, in words and as a diff, and the exact diff of the tailnet policy
// file the reconciler would write.
func (s *Server) catalogPreview(c echo.Context) error {
	if _, err := s.catalogRequireEditable(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	e := catalogEditFromForm(c.FormValue)
	cur, etag, err := s.currentCatalog(c)
	if err != nil {
		return err
	}
	if e.conflicts(cur, etag) {
		return s.catalogRenderForm(c, http.StatusConflict, e, cur, etag, nil, true)
	}
	proposed, ferr := e.apply(cur)
	if ferr == nil {
		if ferr, err = s.catalogCheckEdit(ctx, e, cur, proposed); err != nil {
			return err
		}
	}
	if ferr != nil {
		return s.catalogRenderForm(c, http.StatusBadRequest, e, cur, etag, ferr, false)
	}
	page := catalogPreviewPage{Edit: e, Summary: catalogChangeSummary(cur, proposed)}
	if page.catalogHeader, err = s.catalogHeaderFor(c, etag); err != nil {
		return err
	}
	page.View, page.Title = "preview", "Preview"
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
	return s.render(c, http.StatusOK, "catalog.html", page)
}

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
	e := catalogEditFromForm(c.FormValue)
	var summary []string
	for attempt := 1; ; attempt++ {
		cur, etag, err := s.currentCatalog(c)
		if err != nil {
			return err
		}
		if e.conflicts(cur, etag) {
			return s.catalogRenderForm(c, http.StatusConflict, e, cur, etag, nil, true)
		}
		proposed, ferr := e.apply(cur)
		if ferr == nil {
			if ferr, err = s.catalogCheckEdit(ctx, e, cur, proposed); err != nil {
				return err
			}
		}
		if ferr != nil {
			return s.catalogRenderForm(c, http.StatusBadRequest, e, cur, etag, ferr, false)
		}
		_, err = st.Replace(ctx, "catalog", proposed.Format(), etag, p.Email, s.now())
		if errors.Is(err, grants.ErrStaleCatalog) && attempt < 3 {
			continue // a save elsewhere landed between the read and the write
		}
		if err != nil {
			return err
		}
		summary = catalogChangeSummary(cur, proposed)
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

// catalogChangeSummary says in words what differs between two catalogs.
func catalogChangeSummary(before, after *grants.Catalog) []string {
	var out []string
	for _, g := range sortedKeys(after.Groups) {
		switch old, ok := before.Groups[g]; {
		case !ok:
			out = append(out, fmt.Sprintf("%s follows Okta group %q (new synced group).", g, after.Groups[g]))
		case old != after.Groups[g]:
			out = append(out, fmt.Sprintf("%s follows Okta group %q instead of %q.", g, after.Groups[g], old))
		}
	}
	for _, g := range sortedKeys(before.Groups) {
		if _, ok := after.Groups[g]; ok {
			continue
		}
		if slices.Contains(after.KeepEmpty, g) {
			out = append(out, fmt.Sprintf("%s stops following %q: the portal empties it and keeps it empty.", g, before.Groups[g]))
		} else {
			out = append(out, fmt.Sprintf("%s stops following %q and is no longer managed: its current members stay.", g, before.Groups[g]))
		}
	}
	for _, g := range before.KeepEmpty {
		if !slices.Contains(after.KeepEmpty, g) && after.Groups[g] == "" {
			out = append(out, fmt.Sprintf("%s is no longer managed: it stays as it is in the policy.", g))
		}
	}
	for _, name := range after.ResourceNames() {
		r := after.Resources[name]
		old, ok := before.Resources[name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("New resource %s (Tailscale group %s).", name, r.Group))
		case !old.Retired && r.Retired:
			out = append(out, fmt.Sprintf("%s is retired: it takes no new requests; active grants run to their end.", name))
		case old.Retired && !r.Retired:
			out = append(out, fmt.Sprintf("%s takes requests again.", name))
		}
		if ok {
			if changed := catalogChangedFields(old, r); len(changed) > 0 {
				out = append(out, fmt.Sprintf("%s: %s.", name, strings.Join(changed, "; ")))
			}
		}
	}
	for _, name := range before.ResourceNames() {
		if _, ok := after.Resources[name]; !ok {
			out = append(out, fmt.Sprintf("Resource %s is removed.", name))
		}
	}
	if !slices.Equal(before.Admins, after.Admins) {
		out = append(out, fmt.Sprintf("Admins: %s.", strings.Join(after.Admins, ", ")))
	}
	return out
}

// catalogChangedFields lists "field: old → new" for the fields (but retired) that differ.
func catalogChangedFields(old, cur grants.Resource) []string {
	before, after := catalogDescribeResource(old), catalogDescribeResource(cur)
	var out []string
	for i := range before[:9] {
		if before[i] != after[i] {
			field, was, _ := strings.Cut(before[i], ": ")
			_, now, _ := strings.Cut(after[i], ": ")
			out = append(out, fmt.Sprintf("%s %s → %s", field, was, now))
		}
	}
	return out
}

// catalogNotes warns about what the preview cannot show: Okta groups the
// directory snapshot does not know, and synced groups whose Okta members
// the portal has not read yet (it reads only groups the catalog names).
func (s *Server) catalogNotes(ctx context.Context, e catalogEdit, cur, proposed *grants.Catalog) ([]string, error) {
	var named []string
	switch e.Kind {
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
