package policyfile

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tailscale/hujson"
)

// ReadGroups returns every entry of the policy's "groups" section (all groups,
// managed or not), members as written. A policy without a "groups" section
// has no groups. It fails when the policy is not HuJSON, its root is not an
// object, or "groups" is not an object of string arrays with distinct names.
func ReadGroups(policy []byte) (map[string][]string, error) {
	doc, err := parse(policy)
	if err != nil {
		return nil, err
	}
	groups := make(map[string][]string)
	if doc.groups == nil {
		return groups, nil
	}
	for i := range doc.groups.Members {
		m := &doc.groups.Members[i]
		name := literalString(m.Name.Value.(hujson.Literal))
		members, err := groupMembers(name, m.Value)
		if err != nil {
			return nil, err
		}
		groups[name] = members
	}
	return groups, nil
}

// doc is a parsed policy file plus what is known about its layout.
type document struct {
	src  []byte // the text parsed; all offsets in the tree refer to it
	root hujson.Value
	obj  *hujson.Object // the root object

	groupsMember *hujson.ObjectMember // the root's "groups" member, or nil
	groups       *hujson.Object       // its value, or nil

	newline        string // "\n", or "\r\n" when the file uses it
	indentUnit     string // one level of indentation, e.g. "\t" or "  "
	trailingCommas bool   // whether multi-line objects and arrays mostly end with a comma
}

// parse parses a policy file and finds its "groups" section.
func parse(policy []byte) (*document, error) {
	src := bytes.Clone(policy) // hujson.Parse aliases its input
	root, err := hujson.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("parsing policy: %w", err)
	}
	obj, ok := root.Value.(*hujson.Object)
	if !ok {
		return nil, fmt.Errorf("parsing policy: the root value is not an object")
	}
	doc := &document{src: src, root: root, obj: obj, newline: "\n"}
	if bytes.Contains(src, []byte("\r\n")) {
		doc.newline = "\r\n"
	}
	doc.indentUnit = "\t"
	if len(obj.Members) > 0 {
		rootIndent, _ := lineIndent(src, root.StartOffset)
		memberIndent, first := lineIndent(src, obj.Members[0].Name.StartOffset)
		if first && len(memberIndent) > len(rootIndent) && strings.HasPrefix(memberIndent, rootIndent) {
			doc.indentUnit = memberIndent[len(rootIndent):]
		}
	}
	for i := range obj.Members {
		m := &obj.Members[i]
		if literalString(m.Name.Value.(hujson.Literal)) != "groups" {
			continue
		}
		if doc.groupsMember != nil {
			return nil, fmt.Errorf("parsing policy: more than one \"groups\" section")
		}
		groups, ok := m.Value.Value.(*hujson.Object)
		if !ok {
			return nil, fmt.Errorf("parsing policy: \"groups\" is not an object")
		}
		doc.groupsMember, doc.groups = m, groups
	}
	return doc, nil
}

// groupIndex maps each group name to its position in the groups object.
func (d *document) groupIndex() (map[string]int, error) {
	if d.groups == nil {
		return nil, nil
	}
	index := make(map[string]int, len(d.groups.Members))
	for i := range d.groups.Members {
		name := literalString(d.groups.Members[i].Name.Value.(hujson.Literal))
		if _, dup := index[name]; dup {
			return nil, fmt.Errorf("parsing policy: group %q is defined more than once", name)
		}
		index[name] = i
	}
	return index, nil
}

// groupMembers returns a group's members as written.
func groupMembers(name string, v hujson.Value) ([]string, error) {
	arr, ok := v.Value.(*hujson.Array)
	if !ok {
		return nil, fmt.Errorf("reading policy group %q: its value is not an array", name)
	}
	members := make([]string, 0, len(arr.Elements))
	for i, e := range arr.Elements {
		lit, ok := e.Value.(hujson.Literal)
		if !ok || lit.Kind() != '"' {
			return nil, fmt.Errorf("reading policy group %q: member %d is not a string", name, i)
		}
		members = append(members, literalString(lit))
	}
	return members, nil
}

// writtenAs reports, without allocating, whether v is an array of
// exactly the string literals of want (normalized), in order and unescaped:
// a group the portal wrote that still holds the desired members.
func writtenAs(v hujson.Value, want []string) bool {
	arr, ok := v.Value.(*hujson.Array)
	if !ok || len(arr.Elements) != len(want) {
		return false
	}
	for i, e := range arr.Elements {
		lit, ok := e.Value.(hujson.Literal)
		if !ok || len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' ||
			bytes.IndexByte(lit, '\\') >= 0 || string(lit[1:len(lit)-1]) != want[i] {
			return false
		}
	}
	return true
}

// literalString returns the value of a JSON string literal, without going
// through encoding/json when there is nothing to unescape.
func literalString(lit hujson.Literal) string {
	if len(lit) >= 2 && lit[0] == '"' && lit[len(lit)-1] == '"' && bytes.IndexByte(lit, '\\') < 0 {
		return string(lit[1 : len(lit)-1])
	}
	return lit.String()
}

// ValidLogin reports whether s can stand as a user in a group: a login of
// the form name@domain (an email, or a name@github style login) with no
// spaces, quotes, commas, brackets or control characters, and not a group,
// tag or autogroup.
func ValidLogin(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.HasPrefix(s, "group:") || strings.HasPrefix(s, "tag:") || strings.HasPrefix(s, "autogroup:") {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("\"',;<>()[]{}\\", r) {
			return false
		}
	}
	return true
}
