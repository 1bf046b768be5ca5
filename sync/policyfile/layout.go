package policyfile

import (
	"bytes"
	"slices"
	"unicode/utf8"

	"github.com/tailscale/hujson"
)

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
