package policyfile

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"
)

// FuzzPatchGroups patches arbitrary policies (seeded with the real-world
// files) and checks the patcher's promises: the output parses, the managed
// group holds exactly the desired members, every byte outside an existing
// managed group is unchanged, and patching again changes nothing.
func FuzzPatchGroups(f *testing.F) {
	files := testFiles(f)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		text := files[name]
		f.Add(text, "group:fuzz", "a@example.com,B@Example.com")
		if groups, err := ReadGroups(text); err == nil {
			for _, g := range slices.Sorted(maps.Keys(groups)) {
				f.Add(text, g, "")
				f.Add(text, g, "x@example.com")
				break
			}
		}
	}
	f.Add([]byte(`{}`), "group:a", "a@b.c")
	f.Add([]byte("// only a comment\n{\"groups\": {\"group:a\": [\"x@y.z\",],},}"), "group:a", "q@r.s,x@y.z")
	f.Fuzz(func(t *testing.T, policy []byte, group, members string) {
		if !strings.HasPrefix(group, "group:") || len(group) == len("group:") {
			return
		}
		var want []string
		if members != "" {
			want = strings.Split(members, ",")
		}
		desired := map[string][]string{group: want}
		before, err := ReadGroups(policy)
		if err != nil {
			return // not a policy the patcher accepts; PatchGroups must fail too
		}
		out, changes, err := PatchGroups(policy, desired)
		if err != nil {
			return
		}
		after, err := ReadGroups(out)
		if err != nil {
			t.Fatalf("patched policy does not parse: %v\n%s", err, out)
		}
		if got := NormalizeMembers(after[group]); !slices.Equal(got, NormalizeMembers(want)) {
			t.Fatalf("group %s = %q, want %q", group, got, NormalizeMembers(want))
		}
		if _, existed := before[group]; existed {
			if masked(t, policy, desired) != masked(t, out, desired) {
				t.Fatalf("bytes outside %s changed:\n--- before\n%s\n--- after\n%s", group, policy, out)
			}
		}
		for g, m := range before {
			if g != group && !slices.Equal(after[g], m) {
				t.Fatalf("unmanaged group %s changed: %q → %q", g, m, after[g])
			}
		}
		again, more, err := PatchGroups(out, desired)
		if err != nil || len(more) != 0 || !bytes.Equal(again, out) {
			t.Fatalf("patching twice changed something: %v %v", more, err)
		}
		if len(changes) == 0 && !bytes.Equal(out, policy) {
			t.Fatalf("no change reported, but the text changed")
		}
	})
}
