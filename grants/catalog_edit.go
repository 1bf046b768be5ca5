package grants

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Kinds of catalog edit.
const (
	EditGroup           = "group"             // add a synced group, or change its Okta group
	EditGroupRemove     = "group-remove"      // stop syncing a group: empty it, or leave its members
	EditKeepEmptyRemove = "keep-empty-remove" // stop managing a group kept empty
	EditResource        = "resource"          // create or edit a resource
	EditResourceRetire  = "resource-retire"   // no new requests
	EditResourceRestore = "resource-restore"  // take requests again
	EditAdmins          = "admins"            // change the Okta groups that administer the portal
)

// Answers to "empty the Tailscale group or leave it?" when a synced group
// is removed.
const (
	RemovalEmpty = "empty"
	RemovalLeave = "leave"
)

// CatalogEdit is one admin change to the catalog.
type CatalogEdit struct {
	// Kind is one of the Edit… kinds.
	Kind string
	// Key is the definition changed: a Tailscale group or a resource name.
	Key string
	// Adding says the definition is new (else it must exist).
	Adding bool
	// Okta is the Okta group a synced group follows (EditGroup).
	Okta string
	// Removal is RemovalEmpty or RemovalLeave (EditGroupRemove).
	Removal string
	// Resource is the resource as typed (EditResource).
	Resource ResourceText
	// Admins are the Okta groups whose members administer the portal
	// (EditAdmins).
	Admins []string
}

// IsResource says whether the edit changes a resource (else a group).
func (e CatalogEdit) IsResource() bool { return strings.HasPrefix(e.Kind, EditResource) }

// ResourceText is a resource as an admin typed it. The catalog parser
// judges it, so that a form gets the file's rules and messages; empty
// fields take the file's defaults.
type ResourceText struct {
	Description, Group               string
	Eligible, Approvers, AutoApprove []string
	Approvals                        string
	MaxDuration, DefaultDuration     string
	RequireReason                    bool
	// Retired is kept from the resource being edited: retiring is its own
	// edit.
	Retired bool
}

// ResourceTextOf is r as a form shows it.
func ResourceTextOf(r Resource) ResourceText {
	return ResourceText{
		Description: r.Description, Group: r.Group,
		Eligible: r.Eligible, Approvers: r.Approvers, AutoApprove: r.AutoApprove,
		Approvals: fmt.Sprint(r.Approvals), MaxDuration: formatDuration(r.MaxDuration),
		DefaultDuration: formatDuration(r.DefaultDuration), RequireReason: r.RequireReason, Retired: r.Retired,
	}
}

// format writes the members of the resource object, in key order.
func (t *ResourceText) format(b *bytes.Buffer) {
	member := func(key, value string) { fmt.Fprintf(b, "      %q: %s,\n", key, value) }
	text := func(key, value string) {
		if value != "" {
			member(key, quote(value))
		}
	}
	list := func(key string, l []string) {
		if len(l) > 0 {
			member(key, formatStringList(l))
		}
	}
	if t.Approvals != "" {
		// A number goes in as a number (the parser says what is wrong
		// with 0 or 1.5); anything else as the string it is.
		if json.Valid([]byte(t.Approvals)) && strings.ContainsAny(t.Approvals[:1], "-0123456789") {
			member("approvals", t.Approvals)
		} else {
			member("approvals", quote(t.Approvals))
		}
	}
	list("approvers", t.Approvers)
	list("autoApprove", t.AutoApprove)
	text("defaultDuration", t.DefaultDuration)
	text("description", t.Description)
	list("eligible", t.Eligible)
	text("group", t.Group)
	text("maxDuration", t.MaxDuration)
	member("requireReason", fmt.Sprint(t.RequireReason))
	if t.Retired {
		member("retired", "true")
	}
}

// CatalogEditError is what is wrong with an edit, next to the field it
// names.
type CatalogEditError struct {
	// Field is the edit's field: "group" (the Tailscale group or, for a
	// resource, its group), "okta", "removal", "name" or a resource key
	// ("maxDuration", …); "" for the edit as a whole.
	Field string
	Msg   string
}

func (e *CatalogEditError) Error() string { return e.Msg }

// Unwrap makes an edit error invalid input.
func (e *CatalogEditError) Unwrap() error { return ErrInvalid }

func editError(field, format string, args ...any) *CatalogEditError {
	return &CatalogEditError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// clone is a deep copy of the catalog.
func (c *Catalog) clone() *Catalog {
	out := *c
	out.Admins = slices.Clone(c.Admins)
	out.Groups = maps.Clone(c.Groups)
	if out.Groups == nil {
		out.Groups = map[string]string{}
	}
	out.Resources = maps.Clone(c.Resources)
	if out.Resources == nil {
		out.Resources = map[string]Resource{}
	}
	out.KeepEmpty = slices.Clone(c.KeepEmpty)
	return &out
}

// Apply returns the catalog c would become with the edit; c does not
// change. The result goes through ParseCatalog, so every field is
// validated with the rules and messages of the catalog file. Errors are
// *CatalogEditError.
func (c *Catalog) Apply(e CatalogEdit) (*Catalog, error) {
	next := c.clone()
	key := e.Key
	dropKeepEmpty := func() { next.KeepEmpty = slices.DeleteFunc(next.KeepEmpty, func(g string) bool { return g == key }) }
	var typed *ResourceText
	switch e.Kind {
	case EditGroup:
		okta, synced := next.Groups[key]
		switch {
		case e.Adding && synced:
			return nil, editError("group", "groups.%s: %s already follows Okta group %q; change that mapping instead", key, key, okta)
		case !e.Adding && !synced:
			return nil, editError("", "%s is no longer a synced group of the catalog", key)
		}
		next.Groups[key] = e.Okta
		dropKeepEmpty() // syncing a group kept empty fills it again
	case EditGroupRemove:
		if _, synced := next.Groups[key]; !synced {
			return nil, editError("", "%s is no longer a synced group of the catalog", key)
		}
		delete(next.Groups, key)
		switch e.Removal {
		case RemovalEmpty:
			next.KeepEmpty = append(next.KeepEmpty, key)
		case RemovalLeave:
		default:
			return nil, editError("removal", "choose whether to empty %s or to leave it with its current members", key)
		}
	case EditAdmins:
		if len(e.Admins) == 0 {
			return nil, editError("admins", "choose at least one Okta group: without one nobody could administer the portal")
		}
		next.Admins = slices.Clone(e.Admins)
	case EditKeepEmptyRemove:
		if !slices.Contains(next.KeepEmpty, key) {
			return nil, editError("", "%s is no longer kept empty", key)
		}
		dropKeepEmpty()
	case EditResource:
		old, exists := next.Resources[key]
		switch {
		case e.Adding && exists:
			return nil, editError("name", "resources.%s: a resource named %s already exists", key, key)
		case !e.Adding && !exists:
			return nil, editError("", "resource %s is no longer in the catalog", key)
		}
		t := e.Resource
		t.Retired = exists && old.Retired
		typed = &t
	case EditResourceRetire, EditResourceRestore:
		r, exists := next.Resources[key]
		if !exists {
			return nil, editError("", "resource %s is no longer in the catalog", key)
		}
		r.Retired = e.Kind == EditResourceRetire
		next.Resources[key] = r
	default:
		return nil, editError("", "unknown catalog change %q", e.Kind)
	}
	name := ""
	if typed != nil {
		name = key
	}
	proposed, err := ParseCatalog("catalog", next.format(name, typed))
	if err != nil {
		return nil, e.EditError(err)
	}
	return proposed, nil
}

// EditError is err as the edit's form shows it: a *CatalogEditError next
// to the field a *CatalogError is about; any other error unchanged.
func (e CatalogEdit) EditError(err error) error {
	var ce *CatalogError
	if errors.As(err, &ce) {
		return &CatalogEditError{Field: e.fieldOf(ce), Msg: editMessage(ce)}
	}
	return err
}

// fieldOf names the edit's field a catalog error is about.
func (e CatalogEdit) fieldOf(ce *CatalogError) string {
	if e.Kind == EditAdmins {
		return "admins"
	}
	if !e.IsResource() {
		if strings.Contains(ce.Msg, "Okta group") {
			return "okta"
		}
		return "group"
	}
	rest, ok := strings.CutPrefix(ce.Key, "resources."+e.Key)
	if !ok {
		return ""
	}
	rest = strings.TrimPrefix(rest, ".")
	if i := strings.IndexByte(rest, '['); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" {
		return "name"
	}
	return rest
}

// lineReference matches the file positions in catalog messages, which mean
// nothing for an edit.
var lineReference = regexp.MustCompile(` \((first )?on line \d+\)|, line \d+| \(line \d+\)`)

// editMessage is a catalog error as an edit shows it: the key and the
// file's message, without lines of a file the admin never saw.
func editMessage(ce *CatalogError) string {
	msg := lineReference.ReplaceAllString(ce.Msg, "")
	if ce.Key == "" {
		return msg
	}
	return ce.Key + ": " + msg
}
