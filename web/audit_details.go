package web

import (
	"bytes"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/aymanbagabas/go-udiff"

	"github.com/accessportal/portal/grants"
)

// auditField is one labelled value of an audit event's details.
type auditField struct{ Label, Value string }

// auditDetails is an audit event's details as the audit page shows them:
// labelled fields and, for a catalog change, what changed in words and as
// a diff of the catalog.
type auditDetails struct {
	Fields  []auditField
	Changes []string
	Diff    []catalogDiffLine
}

// View reads the event's details for people.
func (r adminAuditRow) View() auditDetails {
	var d map[string]any
	dec := json.NewDecoder(strings.NewReader(r.Details))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return auditDetails{}
	}
	var v auditDetails
	if r.Action == "catalog.replace" {
		before, _ := d["before"].(string)
		after, _ := d["after"].(string)
		if before != "" || after != "" {
			v.Changes, v.Diff = catalogChange(before, after)
			delete(d, "before")
			delete(d, "after")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(d)) {
		v.Fields = append(v.Fields, auditField{Label: fieldLabel(k), Value: fieldValue(d[k])})
	}
	return v
}

// catalogChange says what a catalog.replace event changed: in words
// (grants.Changes) and as a unified diff of the two versions.
func catalogChange(before, after string) ([]string, []catalogDiffLine) {
	diff := udiff.Unified("catalog before", "catalog after", before, after)
	var changes []string
	old, errOld := parseAuditedCatalog(before)
	cur, errCur := grants.ParseCatalog("catalog after", []byte(after))
	if errOld == nil && errCur == nil {
		changes = grants.Changes(old, cur)
	}
	if diff == "" {
		return changes, nil
	}
	return changes, catalogDiffLines(diff)
}

// parseAuditedCatalog reads the catalog an event started from; an empty
// text is the empty catalog (the first import).
func parseAuditedCatalog(text string) (*grants.Catalog, error) {
	if strings.TrimSpace(text) == "" {
		return &grants.Catalog{Groups: map[string]string{}, Resources: map[string]grants.Resource{}}, nil
	}
	return grants.ParseCatalog("catalog before", []byte(text))
}

// identifierKey matches details keys that are names in code
// ("eventReceivedAt", "grant_id"), as opposed to data ("group:eng").
var identifierKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// fieldLabel turns a details key into a label: "eventReceivedAt" reads
// "Event received at", "grant_id" "Grant id"; a key that is data, such as
// a group name, stays as it is.
func fieldLabel(key string) string {
	if !identifierKey.MatchString(key) {
		return key
	}
	var b strings.Builder
	for i, r := range key {
		switch {
		case r == '_' || r == '-':
			b.WriteRune(' ')
		case unicode.IsUpper(r) && i > 0:
			b.WriteRune(' ')
			b.WriteRune(unicode.ToLower(r))
		case i == 0:
			b.WriteRune(unicode.ToUpper(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fieldValue renders one details value: text as it is, a list of plain
// values joined by commas, an object as "key: value" pairs, anything else
// as compact JSON.
func fieldValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				return compactJSON(x)
			}
			parts = append(parts, fieldValue(e))
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, strings.ToLower(fieldLabel(k))+": "+fieldValue(x[k]))
		}
		return strings.Join(parts, "; ")
	}
	return compactJSON(v)
}

// compactJSON is v as JSON without HTML escapes (the template escapes).
func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSpace(b.String())
}
