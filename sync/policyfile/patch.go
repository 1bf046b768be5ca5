package policyfile

// This file edits the tailnet policy file. The portal owns only the member
// arrays of its managed groups; every other byte of the file (comments, key
// order, trailing commas, whitespace, the text after the root value) is kept
// exactly as the admins wrote it. The file is parsed into a HuJSON syntax tree
// with github.com/tailscale/hujson, only the managed groups' nodes are
// replaced or added, and the tree is packed back. The file is never
// re-marshalled through a struct and never reformatted as a whole.

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tailscale/hujson"
)

// groupPrefix starts every Tailscale group name.
const groupPrefix = "group:"

// freshLineWidth is the widest one-line member array (from the group's
// name to the closing bracket, indentation not counted) written for a group
// whose current text says nothing about its layout (a new group, or an empty
// `[]`). Wider arrays get one member per line.
const freshLineWidth = 80

// GroupChange says how one managed group's members change.
type GroupChange struct {
	// Group is the group's name, e.g. "group:prod-db".
	Group string
	// Added are the members the group gains, lower-cased and sorted.
	Added []string
	// Removed are the members the group loses, lower-cased and sorted.
	Removed []string
	// Created is true when the group was missing from the policy and is added.
	Created bool
}

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

// PatchGroups returns the policy text with each group in desired set to
// exactly its members (lower-cased, de-duplicated, sorted). Groups missing
// from the policy are added at the end of "groups" (the "groups" section
// itself is created, as the first member of the root object, when absent).
// Groups not in desired are untouched. When nothing changes it returns policy
// itself and no changes. Changes are sorted by group name.
//
// A group whose current members already equal the desired ones (compared
// lower-cased, as a set) is left exactly as written, even if its members are
// unsorted, repeated or upper-case. A group that does change has its whole
// member array rewritten: comments inside that array are lost (the array is
// the portal's), while comments before or after it, such as
// `"group:x": ["a"], // why`, are kept. A rewritten array keeps its layout: a
// one-line array stays on one line, a multi-line array gets one member per
// line with the indentation of its current members and its trailing-comma
// habit (see arrayLayout for the full rules). New groups and a new
// "groups" section are indented like the object they go into and follow the
// file's trailing-comma habit.
//
// Every name in desired must start with "group:".
func PatchGroups(policy []byte, desired map[string][]string) ([]byte, []GroupChange, error) {
	names := make([]string, 0, len(desired))
	for name := range desired {
		if !strings.HasPrefix(name, groupPrefix) || len(name) == len(groupPrefix) {
			return nil, nil, fmt.Errorf("patching policy groups: %q is not a group name (want %q followed by a name)", name, groupPrefix)
		}
		names = append(names, name)
	}
	slices.Sort(names)

	doc, err := parse(policy)
	if err != nil {
		return nil, nil, err
	}
	index, err := doc.groupIndex()
	if err != nil {
		return nil, nil, err
	}

	// Plan every change before touching the tree, so that the layout is read
	// from the text as the admins wrote it.
	var (
		changes   []GroupChange
		updates   []groupUpdate
		creates   []groupUpdate
		needHabit bool
	)
	for _, name := range names {
		want := NormalizeMembers(desired[name])
		i, ok := index[name]
		if !ok {
			changes = append(changes, GroupChange{Group: name, Added: nilIfEmpty(want), Created: true})
			creates = append(creates, groupUpdate{name: name, members: want})
			needHabit = true
			continue
		}
		if writtenAs(doc.groups.Members[i].Value, want) {
			continue // the usual case: written by the portal and still right
		}
		have, err := groupMembers(name, doc.groups.Members[i].Value)
		if err != nil {
			return nil, nil, err
		}
		added, removed := memberDiff(NormalizeMembers(have), want)
		if len(added) == 0 && len(removed) == 0 {
			continue
		}
		changes = append(changes, GroupChange{Group: name, Added: added, Removed: removed})
		updates = append(updates, groupUpdate{name: name, members: want, index: i})
		if arr := doc.groups.Members[i].Value.Value.(*hujson.Array); len(arr.Elements) == 0 {
			needHabit = true
		}
	}
	if len(changes) == 0 {
		return policy, nil, nil
	}
	if needHabit {
		doc.trailingCommas = trailingCommaHabit(&doc.root)
	}

	// Compute every layout first (it reads the original tree), then mutate.
	arrays := make([]*hujson.Array, len(updates))
	for j, u := range updates {
		arrays[j] = doc.existingLayout(&doc.groups.Members[u.index], u.members).render(u.members)
	}
	for j, u := range updates {
		doc.groups.Members[u.index].Value.Value = arrays[j]
	}
	if len(creates) > 0 {
		if doc.groups == nil {
			doc.insertGroupsSection(creates)
		} else {
			doc.appendGroups(creates)
		}
	}
	return doc.root.Pack(), changes, nil
}

// NormalizeMembers lower-cases, de-duplicates and sorts. Tailscale logins are
// case-insensitive, so "Alice@Example.com" and "alice@example.com" are one
// member. Surrounding white space is trimmed and empty entries are dropped.
func NormalizeMembers(members []string) []string {
	out := make([]string, 0, len(members))
	for _, m := range members {
		if m = strings.ToLower(strings.TrimSpace(m)); m != "" {
			out = append(out, m)
		}
	}
	if !slices.IsSorted(out) {
		slices.Sort(out)
	}
	return slices.Compact(out)
}

// groupUpdate is one planned change of a group's members.
type groupUpdate struct {
	name    string
	members []string // normalized
	index   int      // in the groups object, for an existing group
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

// memberDiff compares two sorted, de-duplicated member lists.
func memberDiff(have, want []string) (added, removed []string) {
	i, j := 0, 0
	for i < len(have) || j < len(want) {
		switch {
		case j == len(want) || (i < len(have) && have[i] < want[j]):
			removed = append(removed, have[i])
			i++
		case i == len(have) || want[j] < have[i]:
			added = append(added, want[j])
			j++
		default:
			i++
			j++
		}
	}
	return added, removed
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// arrayLayout is how a member array is written.
//
// Layout rules:
//   - An existing array written on one line stays on one line, keeping its
//     padding inside the brackets, its separator after commas (", " or ",")
//     and its trailing comma if it had one.
//   - An existing array written over several lines gets one member per line,
//     indented like its current first member (or one level deeper than the
//     group's key when it has none), the closing bracket where it was, and a
//     trailing comma when it had one (when it had no members, when the file's
//     multi-line objects and arrays mostly have one).
//   - A new group, or an existing `[]`, goes on one line when that line is at
//     most freshLineWidth bytes wide (indentation not counted), else one
//     member per line as above.
//   - An empty member list is always written `[]`.
type arrayLayout struct {
	multiLine bool

	// one line: ["a"<sep>"b"] with padding inside the brackets
	open, sep, close string

	// several lines
	newline, memberIndent, closeIndent string

	trailingComma bool
}

// render builds a member array in this layout.
func (l arrayLayout) render(members []string) *hujson.Array {
	arr := &hujson.Array{}
	if len(members) == 0 {
		return arr
	}
	// One buffer for every literal and one for every separator.
	size := 0
	for _, m := range members {
		size += len(m) + 2
	}
	lits := make([]byte, 0, size)
	arr.Elements = make([]hujson.Value, len(members))
	var first, rest hujson.Extra
	if l.multiLine {
		first = hujson.Extra(l.newline + l.memberIndent)
		rest = first
		arr.AfterExtra = hujson.Extra(l.newline + l.closeIndent)
	} else {
		first = extraOrNil(l.open)
		rest = extraOrNil(l.sep)
		arr.AfterExtra = extraOrNil(l.close)
	}
	for i, m := range members {
		start := len(lits)
		lits = appendString(lits, m)
		e := &arr.Elements[i]
		e.Value = hujson.Literal(lits[start:len(lits):len(lits)])
		e.BeforeExtra = rest
		if i == 0 {
			e.BeforeExtra = first
		}
	}
	if l.trailingComma {
		arr.Elements[len(members)-1].AfterExtra = hujson.Extra{}
	}
	return arr
}

func extraOrNil(s string) hujson.Extra {
	if s == "" {
		return nil
	}
	return hujson.Extra(s)
}

// appendString appends s as a JSON string literal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == '"' || c == '\\' {
			return append(b, hujson.String(s)...)
		}
	}
	if !utf8.ValidString(s) {
		return append(b, hujson.String(s)...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// existingLayout reads the layout of a group's current member array, which
// is to hold members.
func (d *document) existingLayout(m *hujson.ObjectMember, members []string) arrayLayout {
	arr := m.Value.Value.(*hujson.Array)
	keyIndent, _ := lineIndent(d.src, m.Name.StartOffset)
	text := d.src[m.Value.StartOffset:m.Value.EndOffset]
	if bytes.IndexByte(text, '\n') < 0 {
		if len(arr.Elements) == 0 {
			return d.freshLayout(keyIndent, literalString(m.Name.Value.(hujson.Literal)), members)
		}
		l := arrayLayout{sep: " "}
		if e := arr.Elements[0].BeforeExtra; isBlank(e) {
			l.open = string(e)
		}
		if len(arr.Elements) > 1 {
			if e := arr.Elements[1].BeforeExtra; isBlank(e) {
				l.sep = string(e)
			}
		}
		if isBlank(arr.AfterExtra) {
			l.close = string(arr.AfterExtra)
		}
		l.trailingComma = arr.Elements[len(arr.Elements)-1].AfterExtra != nil
		return l
	}
	l := arrayLayout{multiLine: true, newline: d.newline}
	if len(arr.Elements) > 0 {
		l.memberIndent = keyIndent + d.indentUnit
		if indent, first := lineIndent(d.src, arr.Elements[0].StartOffset); first {
			l.memberIndent = indent
		}
		l.trailingComma = arr.Elements[len(arr.Elements)-1].AfterExtra != nil
	} else {
		l.memberIndent = keyIndent + d.indentUnit
		l.trailingComma = d.trailingCommas
	}
	l.closeIndent = keyIndent
	if indent, first := lineIndent(d.src, m.Value.EndOffset-1); first {
		l.closeIndent = indent
	}
	return l
}

// freshLayout chooses the layout of a group's members when its current text
// says nothing about it: one line when narrow enough, else one per line.
func (d *document) freshLayout(keyIndent, name string, members []string) arrayLayout {
	width := len(name) + len(`"": []`)
	for i, m := range members {
		width += len(m) + 2
		if i > 0 {
			width += len(", ")
		}
	}
	if width <= freshLineWidth {
		return arrayLayout{sep: " "}
	}
	return arrayLayout{
		multiLine:     true,
		newline:       d.newline,
		memberIndent:  keyIndent + d.indentUnit,
		closeIndent:   keyIndent,
		trailingComma: d.trailingCommas,
	}
}

// newGroupMembers builds the object members for groups that are created,
// their keys indented by keyIndent.
func (d *document) newGroupMembers(creates []groupUpdate, keyIndent string) []hujson.ObjectMember {
	members := make([]hujson.ObjectMember, len(creates))
	for i, c := range creates {
		members[i] = hujson.ObjectMember{
			Name:  hujson.Value{Value: hujson.String(c.name)},
			Value: hujson.Value{BeforeExtra: hujson.Extra(" "), Value: d.freshLayout(keyIndent, c.name, c.members).render(c.members)},
		}
	}
	return members
}

// appendGroups adds new groups at the end of the existing groups object,
// indented like its last group and with its trailing-comma habit.
func (d *document) appendGroups(creates []groupUpdate) {
	groupsIndent, _ := lineIndent(d.src, d.groupsMember.Name.StartOffset)
	keyIndent := groupsIndent + d.indentUnit
	trailing := d.trailingCommas
	if n := len(d.groups.Members); n > 0 {
		last := &d.groups.Members[n-1]
		if indent, first := lineIndent(d.src, last.Name.StartOffset); first {
			keyIndent = indent
		}
		trailing = last.Value.AfterExtra != nil
	}
	d.appendMembers(d.groups, d.newGroupMembers(creates, keyIndent), keyIndent, groupsIndent, trailing)
}

// insertGroupsSection adds a "groups" section holding the new groups as the
// first member of the root object. In a policy written on one line, the
// section is written on one line too.
func (d *document) insertGroupsSection(creates []groupUpdate) {
	oneLine := len(d.obj.Members) > 0 &&
		bytes.IndexByte(d.src[d.root.StartOffset:d.root.EndOffset], '\n') < 0
	rootIndent, _ := lineIndent(d.src, d.root.StartOffset)
	sectionIndent := rootIndent + d.indentUnit
	if len(d.obj.Members) > 0 {
		if indent, first := lineIndent(d.src, d.obj.Members[0].Name.StartOffset); first {
			sectionIndent = indent
		}
	}
	keyIndent := sectionIndent + d.indentUnit

	groups := &hujson.Object{Members: d.newGroupMembers(creates, keyIndent)}
	if oneLine {
		for i := range groups.Members {
			m := &groups.Members[i]
			if i > 0 {
				m.Name.BeforeExtra = hujson.Extra(" ")
			}
			m.Value.Value = arrayLayout{sep: " "}.render(creates[i].members)
		}
	} else {
		for i := range groups.Members {
			groups.Members[i].Name.BeforeExtra = hujson.Extra(d.newline + keyIndent)
		}
		if d.trailingCommas {
			groups.Members[len(groups.Members)-1].Value.AfterExtra = hujson.Extra{}
		}
		groups.AfterExtra = hujson.Extra(d.newline + sectionIndent)
	}
	section := hujson.ObjectMember{
		Name:  hujson.Value{Value: hujson.String("groups")},
		Value: hujson.Value{BeforeExtra: hujson.Extra(" "), Value: groups},
	}

	if len(d.obj.Members) == 0 {
		d.appendMembers(d.obj, []hujson.ObjectMember{section}, sectionIndent, rootIndent, d.trailingCommas)
		return
	}
	// Insert after the line break that ends the root's opening line, so that
	// comments above the first section stay with it.
	first := &d.obj.Members[0].Name
	before := first.BeforeExtra
	if end := firstLineBreakEnd(before); end >= 0 {
		section.Name.BeforeExtra = concatExtra(before[:end], sectionIndent)
		first.BeforeExtra = concatExtra(hujson.Extra(d.newline), string(before[end:]))
	} else {
		section.Name.BeforeExtra = before
		first.BeforeExtra = hujson.Extra(" ")
	}
	d.obj.Members = slices.Insert(d.obj.Members, 0, section)
}

// appendMembers appends members to obj. The new text goes after any comment
// that follows the current last member (`"a": [], // why`) and before the
// line break and indentation of the closing brace, which stay as they were.
func (d *document) appendMembers(obj *hujson.Object, members []hujson.ObjectMember, keyIndent, closeIndent string, trailingComma bool) {
	after := obj.AfterExtra
	k := endOfLastComment(after)
	var lead, tail hujson.Extra
	if k > 0 && after[k-1] == '\n' {
		// A line comment ended the line: start right after it.
		lead = concatExtra(after[:k], keyIndent)
		tail = concatExtra(hujson.Extra(d.newline), string(after[k:]))
	} else {
		// Keep trailing blanks on the line they were on.
		for k < len(after) && (after[k] == ' ' || after[k] == '\t') {
			k++
		}
		lead = concatExtra(after[:k], d.newline+keyIndent)
		tail = after[k:]
		if bytes.IndexByte(tail, '\n') < 0 {
			tail = concatExtra(tail, d.newline+closeIndent)
		}
	}
	for i := range members {
		members[i].Name.BeforeExtra = hujson.Extra(d.newline + keyIndent)
		members[i].Value.AfterExtra = nil
	}
	members[0].Name.BeforeExtra = lead
	if trailingComma {
		members[len(members)-1].Value.AfterExtra = hujson.Extra{}
	}
	obj.Members = append(obj.Members, members...)
	obj.AfterExtra = tail
}

func concatExtra(b hujson.Extra, s string) hujson.Extra {
	out := make(hujson.Extra, 0, len(b)+len(s))
	out = append(out, b...)
	return append(out, s...)
}

// lineIndent returns the blanks that start the line holding src[off], and
// whether src[off] is the first other byte on that line.
func lineIndent(src []byte, off int) (indent string, first bool) {
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	i := start
	for i < off && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	return string(src[start:i]), i == off
}

// isBlank reports whether b is spaces and tabs only (possibly none).
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// commentLen returns the length of the comment that b starts with, or 0.
// A line comment includes its final line break.
func commentLen(b []byte) int {
	switch {
	case bytes.HasPrefix(b, []byte("//")):
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return i + 1
		}
		return len(b)
	case bytes.HasPrefix(b, []byte("/*")):
		if i := bytes.Index(b[2:], []byte("*/")); i >= 0 {
			return i + 4
		}
		return len(b)
	}
	return 0
}

// endOfLastComment returns the offset just after the last comment in extra
// (white space and comments), or 0 when it holds no comment.
func endOfLastComment(extra []byte) int {
	end, n := 0, 0
	for n < len(extra) {
		if c := extra[n]; c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			n++
			continue
		}
		c := commentLen(extra[n:])
		if c == 0 {
			break
		}
		n += c
		end = n
	}
	return end
}

// firstLineBreakEnd returns the offset just after the first line break in
// extra that is not inside a block comment, or -1.
func firstLineBreakEnd(extra []byte) int {
	n := 0
	for n < len(extra) {
		switch c := extra[n]; {
		case c == '\n':
			return n + 1
		case c == ' ' || c == '\t' || c == '\r':
			n++
		default:
			l := commentLen(extra[n:])
			if l == 0 {
				return -1
			}
			if extra[n+1] == '/' && extra[n+l-1] == '\n' {
				return n + l
			}
			n += l
		}
	}
	return -1
}

// trailingCommaHabit reports whether the file's multi-line objects and arrays
// (those whose closing bracket is on its own line) mostly end with a comma.
func trailingCommaHabit(v *hujson.Value) bool {
	with, without := 0, 0
	var walk func(v *hujson.Value)
	count := func(last *hujson.Value, closing hujson.Extra) {
		if bytes.IndexByte(closing, '\n') < 0 {
			return
		}
		if last.AfterExtra != nil {
			with++
		} else {
			without++
		}
	}
	walk = func(v *hujson.Value) {
		switch t := v.Value.(type) {
		case *hujson.Object:
			if n := len(t.Members); n > 0 {
				count(&t.Members[n-1].Value, t.AfterExtra)
			}
			for i := range t.Members {
				walk(&t.Members[i].Value)
			}
		case *hujson.Array:
			if n := len(t.Elements); n > 0 {
				count(&t.Elements[n-1], t.AfterExtra)
			}
			for i := range t.Elements {
				walk(&t.Elements[i])
			}
		}
	}
	walk(v)
	return with >= without
}
