package policyfile

// This file edits the tailnet policy file. The portal owns only the member
// arrays of its managed groups; every other byte of the file (comments, key
// order, trailing commas, whitespace, the text after the root value) is kept
// exactly as the admins wrote it. The file is parsed into a HuJSON syntax tree
// with github.com/tailscale/hujson, only the managed groups' nodes are
// replaced or added, and the tree is packed back. The file is never
// re-marshalled through a struct and never reformatted as a whole.

import (
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
		if !utf8.ValidString(name) || slices.ContainsFunc(desired[name], func(m string) bool { return !utf8.ValidString(m) }) {
			return nil, nil, fmt.Errorf("patching policy groups: %q: names and members must be UTF-8 text", name)
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

// Holds reports whether a policy whose groups are current (ReadGroups)
// already holds every group of desired with its members, as PatchGroups
// judges it: then PatchGroups would change nothing. Both hold normalized
// members (NormalizeMembers).
func Holds(current, desired map[string][]string) bool {
	for name, want := range desired {
		have, ok := current[name]
		if !ok || !slices.Equal(have, want) {
			return false
		}
	}
	return true
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
