package policyfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tailscale/hujson"
)

// policyPlaceholder stands for a managed group's member array when texts are
// compared byte for byte outside those arrays.
const policyPlaceholder = "\x00MANAGED\x00"

// testFiles returns the real-world policy files, by base name.
func testFiles(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "policies", "*.hujson"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 10 {
		t.Fatalf("found %d policy files in testdata/policies, want 10", len(paths))
	}
	files := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	return files
}

// masked returns text with the value of every group in managed
// replaced by policyPlaceholder. It finds the values with its own walk over
// a fresh parse, independent of the code under test.
func masked(t *testing.T, text []byte, managed map[string][]string) string {
	t.Helper()
	v, err := hujson.Parse(slices.Clone(text))
	if err != nil {
		t.Fatalf("parsing %q: %v", text, err)
	}
	groups := v.Find("/groups")
	if groups == nil {
		return string(text)
	}
	type span struct{ start, end int }
	var spans []span
	for _, m := range groups.Value.(*hujson.Object).Members {
		if _, ok := managed[m.Name.Value.(hujson.Literal).String()]; ok {
			spans = append(spans, span{m.Value.StartOffset, m.Value.EndOffset})
		}
	}
	var b strings.Builder
	prev := 0
	for _, s := range spans {
		b.Write(text[prev:s.start])
		b.WriteString(policyPlaceholder)
		prev = s.end
	}
	b.Write(text[prev:])
	return b.String()
}

// checkInsertion checks that after is before with exactly one
// contiguous run of whole lines inserted, and that the run holds nothing but
// the given names, placeholders, white space and JSON punctuation. Names are
// given without quotes, since the run may begin or end inside a name's quotes
// when the bytes next to it are the same quote.
func checkInsertion(t *testing.T, before, after string, names ...string) {
	t.Helper()
	p := 0
	for p < len(before) && p < len(after) && before[p] == after[p] {
		p++
	}
	s := 0
	for s < len(before)-p && s < len(after)-p && before[len(before)-1-s] == after[len(after)-1-s] {
		s++
	}
	if removed := before[p : len(before)-s]; removed != "" {
		t.Fatalf("bytes outside the managed groups changed: %q was replaced by %q", removed, after[p:len(after)-s])
	}
	inserted := after[p : len(after)-s]
	rest := strings.ReplaceAll(inserted, policyPlaceholder, "")
	for _, name := range names {
		rest = strings.ReplaceAll(rest, name, "")
	}
	if strings.Trim(rest, " \t\r\n,:{}\"") != "" {
		t.Fatalf("inserted text %q holds more than the new groups", inserted)
	}
	// The same insertion can sit earlier when the bytes before it repeat its
	// end; one of those places must start a line and end one, so that no line
	// of before was changed.
	for start := p; start >= 0 && after[start+len(inserted):] == before[start:]; start-- {
		if (start == 0 || before[start-1] == '\n') && strings.HasSuffix(after[start:start+len(inserted)], "\n") {
			return
		}
	}
	t.Fatalf("inserted text %q is not whole lines; a line of the input was changed", inserted)
}

// checkValid checks that text is HuJSON that standardizes to a JSON object.
func checkValid(t *testing.T, text []byte) {
	t.Helper()
	v, err := hujson.Parse(slices.Clone(text))
	if err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, text)
	}
	if got := v.Pack(); string(got) != string(text) {
		t.Fatalf("output does not round-trip through hujson")
	}
	std, err := hujson.Standardize(slices.Clone(text))
	if err != nil {
		t.Fatalf("output does not standardize: %v", err)
	}
	var obj map[string]any
	if err := json.Unmarshal(std, &obj); err != nil {
		t.Fatalf("standardized output is not a JSON object: %v", err)
	}
}

func mustRead(t *testing.T, text []byte) map[string][]string {
	t.Helper()
	groups, err := ReadGroups(text)
	if err != nil {
		t.Fatalf("ReadGroups: %v", err)
	}
	return groups
}

func mustPatch(t *testing.T, text []byte, desired map[string][]string) ([]byte, []GroupChange) {
	t.Helper()
	out, changes, err := PatchGroups(text, desired)
	if err != nil {
		t.Fatalf("PatchGroups: %v", err)
	}
	checkValid(t, out)
	return out, changes
}

// TestPatchGroupsRealPolicies patches each real-world policy file: one
// existing group changes and two groups are created (one short enough for one
// line, one not), and checks the members, the untouched bytes, the no-op,
// idempotence and validity.
func TestPatchGroupsRealPolicies(t *testing.T) {
	for name, in := range testFiles(t) {
		t.Run(name, func(t *testing.T) {
			checkValid(t, in)
			before := mustRead(t, in)

			// (3) Desired equal to the current members is a no-op, even
			// when the desired lists are in another order and case.
			same := make(map[string][]string, len(before))
			for g, members := range before {
				m := slices.Clone(members)
				slices.Reverse(m)
				for i := range m {
					m[i] = strings.ToUpper(m[i])
				}
				same[g] = m
			}
			out, changes, err := PatchGroups(in, same)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(in) || changes != nil {
				t.Fatalf("patching with the current members changed the policy: %v", changes)
			}

			// (1), (2) Change one existing group.
			desired := map[string][]string{}
			var existing string
			if len(before) > 0 {
				names := slices.Sorted(func(yield func(string) bool) {
					for g := range before {
						if !yield(g) {
							return
						}
					}
				})
				existing = names[len(names)/2]
				cur := NormalizeMembers(before[existing])
				want := append(slices.Clone(cur[1:]), "New.Person@Example.com", "zed@github")
				desired[existing] = want
				out1, changes := mustPatch(t, in, desired)
				wantMembers := NormalizeMembers(want)
				after := mustRead(t, out1)
				checkGroups(t, before, after, desired)
				if m, o := masked(t, in, desired), masked(t, out1, desired); m != o {
					t.Fatalf("bytes outside %s changed:\n--- in\n%s\n--- out\n%s", existing, m, o)
				}
				wantChange := GroupChange{Group: existing, Added: []string{"new.person@example.com", "zed@github"}, Removed: cur[:1]}
				if len(changes) != 1 || !reflect.DeepEqual(changes[0], wantChange) {
					t.Fatalf("changes = %+v, want %+v", changes, wantChange)
				}
				checkLayoutKept(t, in, out1, existing, wantMembers)
			}

			// Create two groups as well.
			desired["group:portal-db"] = []string{"B@example.com", "a@example.com", "b@example.com"}
			desired["group:portal-wide-access"] = []string{
				"first.person@example.com", "second.person@example.com",
				"third.person@example.com", "fourth.person@example.com",
			}
			out2, changes := mustPatch(t, in, desired)
			after := mustRead(t, out2)
			checkGroups(t, before, after, desired)
			var created []string
			for _, c := range changes {
				if c.Created {
					created = append(created, c.Group)
				}
			}
			if want := []string{"group:portal-db", "group:portal-wide-access"}; !slices.Equal(created, want) {
				t.Fatalf("created groups = %v, want %v", created, want)
			}
			// Everything but the new groups is as after patching the
			// existing group alone, which is the input outside the managed
			// arrays; the new groups are one inserted run.
			withExisting := map[string][]string{}
			if existing != "" {
				withExisting[existing] = desired[existing]
			}
			out1, _ := mustPatch(t, in, withExisting)
			checkInsertion(t, masked(t, out1, desired), masked(t, out2, desired),
				"group:portal-wide-access", "group:portal-db", "groups")

			// (4) Patching twice changes nothing more.
			out3, changes := mustPatch(t, out2, desired)
			if string(out3) != string(out2) || changes != nil {
				t.Fatalf("second patch changed the policy again: %v\n%s", changes, out3)
			}
		})
	}
}

// checkGroups checks that after holds the desired groups, normalized,
// and every other group of before as it was.
func checkGroups(t *testing.T, before, after, desired map[string][]string) {
	t.Helper()
	for g, members := range desired {
		if got, want := after[g], NormalizeMembers(members); !slices.Equal(got, want) {
			t.Errorf("group %s = %q, want %q", g, got, want)
		}
	}
	for g, members := range before {
		if _, ok := desired[g]; ok {
			continue
		}
		if got := after[g]; !slices.Equal(got, members) {
			t.Errorf("unmanaged group %s = %q, want it unchanged %q", g, got, members)
		}
	}
	for g := range after {
		if _, ok := before[g]; !ok {
			if _, ok := desired[g]; !ok {
				t.Errorf("unexpected group %s appeared", g)
			}
		}
	}
}

// checkLayoutKept checks that a rewritten group kept its one-line or
// one-member-per-line layout.
func checkLayoutKept(t *testing.T, in, out []byte, group string, members []string) {
	t.Helper()
	span := func(text []byte) string {
		v, err := hujson.Parse(slices.Clone(text))
		if err != nil {
			t.Fatal(err)
		}
		g := v.Find("/groups/" + group)
		return string(text[g.StartOffset:g.EndOffset])
	}
	was, now := span(in), span(out)
	if !strings.Contains(was, "\n") || was == "[]" {
		if strings.Contains(now, "\n") {
			t.Fatalf("one-line group %s became multi-line: %s", group, now)
		}
		return
	}
	if got := strings.Count(now, "\n"); got != len(members)+1 {
		t.Fatalf("multi-line group %s has %d line breaks for %d members (want one per member and one before the closing bracket): %s", group, got, len(members), now)
	}
}

// TestPatchGroupsLayout checks exact outputs for hand-written policies.
func TestPatchGroupsLayout(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		desired map[string][]string
		want    string
	}{{
		name:    "one-line array stays on one line",
		in:      "{\n\t\"groups\": {\n\t\t\"group:a\": [\"x@example.com\"],\n\t\t\"group:b\": [\"q@example.com\"],\n\t},\n}\n",
		desired: map[string][]string{"group:a": {"z@example.com", "x@example.com", "y@example.com"}},
		want:    "{\n\t\"groups\": {\n\t\t\"group:a\": [\"x@example.com\", \"y@example.com\", \"z@example.com\"],\n\t\t\"group:b\": [\"q@example.com\"],\n\t},\n}\n",
	}, {
		name:    "one-line array keeps its separator, padding and trailing comma",
		in:      `{"groups": {"group:a": [ "x@example.com","w@example.com", ]}}`,
		desired: map[string][]string{"group:a": {"y@example.com", "x@example.com"}},
		want:    `{"groups": {"group:a": [ "x@example.com","y@example.com", ]}}`,
	}, {
		name:    "multi-line array with trailing comma",
		in:      "{\n  \"groups\": {\n    \"group:a\": [\n      \"x@example.com\",\n      \"w@example.com\",\n    ],\n  },\n}\n",
		desired: map[string][]string{"group:a": {"y@example.com", "x@example.com"}},
		want:    "{\n  \"groups\": {\n    \"group:a\": [\n      \"x@example.com\",\n      \"y@example.com\",\n    ],\n  },\n}\n",
	}, {
		name:    "multi-line array without trailing comma",
		in:      "{\n\t\"groups\": {\n\t\t\"group:a\": [\n\t\t\t\"x@example.com\"\n\t\t]\n\t}\n}",
		desired: map[string][]string{"group:a": {"y@example.com", "x@example.com"}},
		want:    "{\n\t\"groups\": {\n\t\t\"group:a\": [\n\t\t\t\"x@example.com\",\n\t\t\t\"y@example.com\"\n\t\t]\n\t}\n}",
	}, {
		name:    "empty multi-line array follows the file's trailing commas",
		in:      "{\n\t\"groups\": {\n\t\t\"group:a\": [\n\t\t]\n\t},\n\t\"x\": [\n\t\t1\n\t]\n}",
		desired: map[string][]string{"group:a": {"x@example.com"}},
		want:    "{\n\t\"groups\": {\n\t\t\"group:a\": [\n\t\t\t\"x@example.com\"\n\t\t]\n\t},\n\t\"x\": [\n\t\t1\n\t]\n}",
	}, {
		name:    "empty group gains members on one line",
		in:      "{\n\t\"groups\": {\n\t\t\"group:on-call\": [],\n\t},\n}\n",
		desired: map[string][]string{"group:on-call": {"b@example.com", "a@example.com"}},
		want:    "{\n\t\"groups\": {\n\t\t\"group:on-call\": [\"a@example.com\", \"b@example.com\"],\n\t},\n}\n",
	}, {
		name: "empty group gains too many members for one line",
		in:   "{\n\t\"groups\": {\n\t\t\"group:on-call\": [],\n\t},\n}\n",
		desired: map[string][]string{"group:on-call": {
			"first.person@example.com", "second.person@example.com", "third.person@example.com",
		}},
		want: "{\n\t\"groups\": {\n\t\t\"group:on-call\": [\n\t\t\t\"first.person@example.com\",\n\t\t\t\"second.person@example.com\",\n\t\t\t\"third.person@example.com\",\n\t\t],\n\t},\n}\n",
	}, {
		name:    "group losing all members",
		in:      "{\n\t\"groups\": {\n\t\t\"group:a\": [\n\t\t\t\"x@example.com\",\n\t\t\t\"y@example.com\",\n\t\t],\n\t\t\"group:b\": [\"z@example.com\"],\n\t},\n}\n",
		desired: map[string][]string{"group:a": nil, "group:b": {}},
		want:    "{\n\t\"groups\": {\n\t\t\"group:a\": [],\n\t\t\"group:b\": [],\n\t},\n}\n",
	}, {
		name:    "comments after group values are kept",
		in:      "{\n\t\"groups\": {\n\t\t\"group:a\": [\"x@example.com\"], // why a\n\t\t\"group:b\":    [\"y@example.com\"], /* why b */\n\t},\n}\n",
		desired: map[string][]string{"group:a": {"w@example.com"}, "group:b": {"v@example.com"}},
		want:    "{\n\t\"groups\": {\n\t\t\"group:a\": [\"w@example.com\"], // why a\n\t\t\"group:b\":    [\"v@example.com\"], /* why b */\n\t},\n}\n",
	}, {
		name:    "comments inside a rewritten array are dropped, around it kept",
		in:      "{\n\t\"groups\": {\n\t\t// admins\n\t\t\"group:a\": /* managed */ [\n\t\t\t\"x@example.com\", // old\n\t\t\t/* gone */ \"y@example.com\",\n\t\t] /* after */,\n\t},\n}\n",
		desired: map[string][]string{"group:a": {"x@example.com"}},
		want:    "{\n\t\"groups\": {\n\t\t// admins\n\t\t\"group:a\": /* managed */ [\n\t\t\t\"x@example.com\",\n\t\t] /* after */,\n\t},\n}\n",
	}, {
		name:    "new group after a last member with a line comment, trailing commas",
		in:      "{\n\t\"groups\": {\n\t\t\"group:a\": [\"x@example.com\"], // why\n\t},\n}\n",
		desired: map[string][]string{"group:new": {"n@example.com"}},
		want:    "{\n\t\"groups\": {\n\t\t\"group:a\": [\"x@example.com\"], // why\n\t\t\"group:new\": [\"n@example.com\"],\n\t},\n}\n",
	}, {
		name:    "new group after a last member with a line comment, no trailing commas",
		in:      "{\n  \"groups\": {\n    \"group:a\": [\"x@example.com\"] // why\n  }\n}\n",
		desired: map[string][]string{"group:new": {"n@example.com"}},
		want:    "{\n  \"groups\": {\n    \"group:a\": [\"x@example.com\"], // why\n    \"group:new\": [\"n@example.com\"]\n  }\n}\n",
	}, {
		name:    "new group keeps trailing blanks on the line they were on",
		in:      "{\n\t\"groups\": {\n\t\t\"group:a\": [\"x@example.com\"],  \n\t},\n}\n",
		desired: map[string][]string{"group:new": {"n@example.com"}},
		want:    "{\n\t\"groups\": {\n\t\t\"group:a\": [\"x@example.com\"],  \n\t\t\"group:new\": [\"n@example.com\"],\n\t},\n}\n",
	}, {
		name:    "new group in an empty groups object",
		in:      "{\n\t\"groups\": {},\n\t\"acls\": [],\n}\n",
		desired: map[string][]string{"group:new": {"n@example.com"}},
		want:    "{\n\t\"groups\": {\n\t\t\"group:new\": [\"n@example.com\"],\n\t},\n\t\"acls\": [],\n}\n",
	}, {
		name:    "missing groups section in a file starting with a comment, no trailing commas",
		in:      "// header\n{\n  \"acls\": [\n    {\n      \"action\": \"accept\"\n    }\n  ]\n}\n",
		desired: map[string][]string{"group:b": {"y@example.com"}, "group:a": {"x@example.com"}},
		want:    "// header\n{\n  \"groups\": {\n    \"group:a\": [\"x@example.com\"],\n    \"group:b\": [\"y@example.com\"]\n  },\n  \"acls\": [\n    {\n      \"action\": \"accept\"\n    }\n  ]\n}\n",
	}, {
		name:    "missing groups section goes above the first section's comment",
		in:      "/* policy\n */\n{ // root\n\t// Hosts.\n\t\"hosts\": {\n\t\t\"a\": \"100.64.0.1\",\n\t},\n}\n// vi: ft=json\n",
		desired: map[string][]string{"group:a": {"x@example.com"}},
		want:    "/* policy\n */\n{ // root\n\t\"groups\": {\n\t\t\"group:a\": [\"x@example.com\"],\n\t},\n\t// Hosts.\n\t\"hosts\": {\n\t\t\"a\": \"100.64.0.1\",\n\t},\n}\n// vi: ft=json\n",
	}, {
		name:    "missing groups section in an empty policy",
		in:      "{}",
		desired: map[string][]string{"group:a": {"x@example.com"}},
		want:    "{\n\t\"groups\": {\n\t\t\"group:a\": [\"x@example.com\"],\n\t},\n}",
	}, {
		name:    "missing groups section in a one-line policy",
		in:      `{"acls": []}`,
		desired: map[string][]string{"group:a": {}},
		want:    `{"groups": {"group:a": []}, "acls": []}`,
	}, {
		name:    "missing groups section in a one-line policy, two groups",
		in:      `{ "acls": [] }`,
		desired: map[string][]string{"group:b": {"y@example.com"}, "group:a": {"x@example.com"}},
		want:    `{ "groups": {"group:a": ["x@example.com"], "group:b": ["y@example.com"]}, "acls": [] }`,
	}, {
		name:    "new group after a last member with a block comment",
		in:      "{\n\t\"groups\": {\n\t\t\"group:a\": [\"x@example.com\"], /* why */\n\t},\n}\n",
		desired: map[string][]string{"group:new": {"n@example.com"}},
		want:    "{\n\t\"groups\": {\n\t\t\"group:a\": [\"x@example.com\"], /* why */\n\t\t\"group:new\": [\"n@example.com\"],\n\t},\n}\n",
	}, {
		name:    "upper-case members are normalized",
		in:      "{\"groups\": {\"group:a\": [\"x@example.com\"]}}",
		desired: map[string][]string{"group:a": {"Y@Example.COM", "x@example.com", "X@EXAMPLE.COM", " tag:Prod "}},
		want:    "{\"groups\": {\"group:a\": [\"tag:prod\", \"x@example.com\", \"y@example.com\"]}}",
	}, {
		name:    "CRLF line endings",
		in:      "{\r\n\t\"groups\": {\r\n\t\t\"group:a\": [\r\n\t\t\t\"x@example.com\",\r\n\t\t],\r\n\t},\r\n}\r\n",
		desired: map[string][]string{"group:a": {"x@example.com", "y@example.com"}, "group:b": {"z@example.com"}},
		want:    "{\r\n\t\"groups\": {\r\n\t\t\"group:a\": [\r\n\t\t\t\"x@example.com\",\r\n\t\t\t\"y@example.com\",\r\n\t\t],\r\n\t\t\"group:b\": [\"z@example.com\"],\r\n\t},\r\n}\r\n",
	}, {
		name:    "members needing escapes",
		in:      `{"groups": {"group:a": []}}`,
		desired: map[string][]string{"group:a": {`odd"quote@example.com`}},
		want:    `{"groups": {"group:a": ["odd\"quote@example.com"]}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changes := mustPatch(t, []byte(tt.in), tt.desired)
			if string(out) != tt.want {
				t.Fatalf("PatchGroups got\n%s\nwant\n%s", out, tt.want)
			}
			if changes == nil {
				t.Fatal("no changes reported")
			}
			got := mustRead(t, out)
			for g, members := range tt.desired {
				if !slices.Equal(got[g], NormalizeMembers(members)) {
					t.Errorf("group %s = %q, want %q", g, got[g], NormalizeMembers(members))
				}
			}
			again, changes := mustPatch(t, out, tt.desired)
			if string(again) != string(out) || changes != nil {
				t.Fatalf("second patch changed the policy: %v\n%s", changes, again)
			}
		})
	}
}

func TestPatchGroupsChanges(t *testing.T) {
	in := []byte(`{"groups": {"group:a": ["Old@example.com", "keep@example.com"], "group:b": []}}`)
	_, changes := mustPatch(t, in, map[string][]string{
		"group:c": {"C@example.com"},
		"group:a": {"keep@example.com", "new@example.com"},
		"group:b": nil,
		"group:d": nil,
	})
	want := []GroupChange{
		{Group: "group:a", Added: []string{"new@example.com"}, Removed: []string{"old@example.com"}},
		{Group: "group:c", Added: []string{"c@example.com"}, Created: true},
		{Group: "group:d", Created: true},
	}
	if !reflect.DeepEqual(changes, want) {
		t.Fatalf("changes = %+v, want %+v", changes, want)
	}
}

// TestPatchGroupsEscapes checks that a member written with an escape is
// compared by its value, not its text.
func TestPatchGroupsEscapes(t *testing.T) {
	in := []byte(`{"groups": {"group:a": ["\u0061@example.com"], "group:b": ["\u0062@example.com"]}}`)
	out, changes := mustPatch(t, in, map[string][]string{
		"group:a": {`\u0061@example.com`},
		"group:b": {"b@example.com"},
	})
	want := []GroupChange{{Group: "group:a", Added: []string{`\u0061@example.com`}, Removed: []string{"a@example.com"}}}
	if !reflect.DeepEqual(changes, want) {
		t.Fatalf("changes = %+v, want %+v", changes, want)
	}
	if wantOut := `{"groups": {"group:a": ["\\u0061@example.com"], "group:b": ["\u0062@example.com"]}}`; string(out) != wantOut {
		t.Fatalf("PatchGroups = %s, want %s", out, wantOut)
	}
}

// TestPatchGroupsUnchangedGroupKeptAsWritten checks that a group whose
// members are already right, though unsorted and upper-case, is not rewritten.
func TestPatchGroupsUnchangedGroupKeptAsWritten(t *testing.T) {
	in := []byte("{\n\t\"groups\": {\n\t\t\"group:a\": [\"B@example.com\", \"a@example.com\", \"b@example.com\"], // hand-written\n\t},\n}\n")
	out, changes, err := PatchGroups(in, map[string][]string{"group:a": {"a@example.com", "b@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(in) || changes != nil {
		t.Fatalf("PatchGroups rewrote a group that was already right: %v\n%s", changes, out)
	}
}

func TestPatchGroupsErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		desired map[string][]string
		want    string
	}{
		{"not HuJSON", `{"groups": {"group:a": [}`, map[string][]string{"group:a": nil}, "parsing policy"},
		{"unterminated comment", "/* {} ", map[string][]string{"group:a": nil}, "parsing policy"},
		{"root not an object", `["group:a"]`, map[string][]string{"group:a": nil}, "root value is not an object"},
		{"groups not an object", `{"groups": []}`, map[string][]string{"group:a": nil}, `"groups" is not an object`},
		{"two groups sections", `{"groups": {}, "groups": {}}`, map[string][]string{"group:a": nil}, "more than one"},
		{"group defined twice", `{"groups": {"group:a": [], "group:a": []}}`, map[string][]string{"group:a": nil}, "more than once"},
		{"group not an array", `{"groups": {"group:a": "x@example.com"}}`, map[string][]string{"group:a": nil}, "not an array"},
		{"member not a string", `{"groups": {"group:a": [1]}}`, map[string][]string{"group:a": nil}, "not a string"},
		{"name without group prefix", `{}`, map[string][]string{"admins": nil}, "not a group name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changes, err := PatchGroups([]byte(tt.in), tt.desired)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("PatchGroups error = %v, want one containing %q (output %q, changes %v)", err, tt.want, out, changes)
			}
		})
	}
	if _, err := ReadGroups([]byte(`{"groups": {"group:a": [`)); err == nil {
		t.Fatal("ReadGroups accepted a policy that is not HuJSON")
	}
}

func TestReadGroups(t *testing.T) {
	groups, err := ReadGroups([]byte("// c\n{\n\t\"groups\": {\n\t\t\"group:a\": [\"B@example.com\", \"a@example.com\"], // x\n\t\t\"group:\\u0062\": [],\n\t},\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"group:a": {"B@example.com", "a@example.com"}, "group:b": {}}
	if !reflect.DeepEqual(groups, want) {
		t.Fatalf("ReadGroups = %q, want %q", groups, want)
	}
	groups, err = ReadGroups([]byte(`{"acls": []}`))
	if err != nil || len(groups) != 0 {
		t.Fatalf("ReadGroups without a groups section = %v, %v; want no groups", groups, err)
	}

	// File 02 has 13 groups with 52 memberships.
	groups = mustRead(t, testFiles(t)["02-piukhq-gitops-tailscale.hujson"])
	n := 0
	for _, m := range groups {
		n += len(m)
	}
	if len(groups) != 13 || n != 52 {
		t.Fatalf("file 02: %d groups with %d memberships, want 13 with 52", len(groups), n)
	}
}

func TestNormalizeMembers(t *testing.T) {
	got := NormalizeMembers([]string{"b@Example.com", "A@example.com", "a@EXAMPLE.com", "", "  ", "tag:Web", "user@GitHub", "autogroup:admin"})
	want := []string{"a@example.com", "autogroup:admin", "b@example.com", "tag:web", "user@github"}
	if !slices.Equal(got, want) {
		t.Fatalf("NormalizeMembers = %q, want %q", got, want)
	}
	if got := NormalizeMembers(nil); len(got) != 0 {
		t.Fatalf("NormalizeMembers(nil) = %q", got)
	}
}

// TestPatchGroupsDoesNotModifyInput checks that the caller's buffer is left alone.
func TestPatchGroupsDoesNotModifyInput(t *testing.T) {
	for name, in := range testFiles(t) {
		orig := slices.Clone(in)
		if _, _, err := PatchGroups(in, map[string][]string{"group:a": {"x@example.com"}}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(in) != string(orig) {
			t.Fatalf("%s: PatchGroups modified its input", name)
		}
	}
}
