package grants

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Version identifies one definition of the catalog as it is: "" when the
// catalog lacks it. Synced groups: the Okta group followed; groups kept
// empty: "empty"; the admins (kind EditAdmins): a hash of the list; resources (kind EditResource…): a hash of the
// resource's canonical form. Two versions differ exactly when the
// definition changed.
func (c *Catalog) Version(kind, key string) string {
	if kind == EditAdmins {
		sum := sha256.Sum256([]byte(strings.Join(c.Admins, "\n")))
		return "admins:" + hex.EncodeToString(sum[:8])
	}
	if strings.HasPrefix(kind, EditResource) {
		r, ok := c.Resources[key]
		if !ok {
			return ""
		}
		one := Catalog{Resources: map[string]Resource{key: r}}
		sum := sha256.Sum256(one.Format())
		return "resource:" + hex.EncodeToString(sum[:8])
	}
	if okta, ok := c.Groups[key]; ok {
		return "synced:" + okta
	}
	if slices.Contains(c.KeepEmpty, key) {
		return "empty"
	}
	return ""
}

// ResourceField is one field of a resource as people read it.
type ResourceField struct {
	Name, Value string
}

// String is "name: value".
func (f ResourceField) String() string { return f.Name + ": " + f.Value }

// settings are the fields of r an admin edits, in the form's order.
func settings(r Resource) []ResourceField {
	list := func(l []string) string {
		if len(l) == 0 {
			return "—"
		}
		return strings.Join(l, ", ")
	}
	return []ResourceField{
		{"description", r.Description},
		{"group", r.Group},
		{"eligible", list(r.Eligible)},
		{"approvers", list(r.Approvers)},
		{"approvals", strconv.Itoa(r.Approvals)},
		{"autoApprove", list(r.AutoApprove)},
		{"maxDuration", formatDuration(r.MaxDuration)},
		{"defaultDuration", formatDuration(r.DefaultDuration)},
		{"requireReason", strconv.FormatBool(r.RequireReason)},
	}
}

// DescribeResource lists every field of r, retired only when it is.
func DescribeResource(r Resource) []ResourceField {
	fields := settings(r)
	if r.Retired {
		fields = append(fields, ResourceField{"retired", "true"})
	}
	return fields
}

// changedSettings lists "field: old → new" for the settings (not retired)
// that differ.
func changedSettings(old, cur Resource) []string {
	before, after := settings(old), settings(cur)
	var out []string
	for i, f := range before {
		if f.Value != after[i].Value {
			out = append(out, fmt.Sprintf("%s %s → %s", f.Name, f.Value, after[i].Value))
		}
	}
	return out
}

// Changes says in words, one sentence each, what differs between two
// versions of the catalog: synced groups added, moved or removed, groups
// no longer kept empty, resources added, retired, restored, changed or
// removed, and the admins.
func Changes(before, after *Catalog) []string {
	var out []string
	for _, g := range slices.Sorted(maps.Keys(after.Groups)) {
		switch old, ok := before.Groups[g]; {
		case !ok:
			out = append(out, fmt.Sprintf("%s follows Okta group %q (new synced group).", g, after.Groups[g]))
		case old != after.Groups[g]:
			out = append(out, fmt.Sprintf("%s follows Okta group %q instead of %q.", g, after.Groups[g], old))
		}
	}
	for _, g := range slices.Sorted(maps.Keys(before.Groups)) {
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
			if changed := changedSettings(old, r); len(changed) > 0 {
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
