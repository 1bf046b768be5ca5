package policyfile

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// policyBenchSize is the shape of the synthetic policy: groups managed by the
// portal, members in each, and distinct users they are drawn from.
const (
	policyBenchGroups  = 200
	policyBenchMembers = 50
	policyBenchUsers   = 10000
)

// benchFixture builds a tab-indented policy with policyBenchGroups
// multi-line groups (plus comments and a few other sections), members sorted
// as the portal writes them, and the members each group has in it, in the
// order they were drawn.
func benchFixture() ([]byte, map[string][]string) {
	current := make(map[string][]string, policyBenchGroups)
	var b strings.Builder
	b.WriteString("// Synthetic policy for BenchmarkPatchGroups.\n{\n\t// Managed by the access portal.\n\t\"groups\": {\n")
	for g := range policyBenchGroups {
		name := fmt.Sprintf("group:resource-%03d", g)
		fmt.Fprintf(&b, "\t\t// %s\n\t\t%q: [\n", name, name)
		members := make([]string, 0, policyBenchMembers)
		for m := range policyBenchMembers {
			members = append(members, fmt.Sprintf("user%05d@example.com", (g*37+m*199)%policyBenchUsers))
		}
		for _, user := range slices.Sorted(slices.Values(members)) {
			fmt.Fprintf(&b, "\t\t\t%q,\n", user)
		}
		b.WriteString("\t\t],\n")
		current[name] = members
	}
	b.WriteString("\t},\n\n\t\"tagOwners\": {\n\t\t\"tag:server\": [\"autogroup:admin\"],\n\t},\n\n\t\"grants\": [\n")
	for g := range policyBenchGroups {
		fmt.Fprintf(&b, "\t\t{\"src\": [\"group:resource-%03d\"], \"dst\": [\"tag:server\"], \"ip\": [\"443\"]},\n", g)
	}
	b.WriteString("\t],\n}\n")
	return []byte(b.String()), current
}

// BenchmarkPatchGroups patches the synthetic policy: "every-group" moves five
// members of every managed group (a large Okta sync), "one-group" adds one
// member to one group (a typical grant), "no-op" changes nothing (the usual
// periodic pass).
func BenchmarkPatchGroups(b *testing.B) {
	policy, current := benchFixture()

	everyGroup := make(map[string][]string, len(current))
	oneGroup := make(map[string][]string, len(current))
	noop := make(map[string][]string, len(current))
	for name, members := range current {
		changed := append([]string(nil), members[5:]...)
		for i := range 5 {
			changed = append(changed, fmt.Sprintf("new%05d@example.com", (len(name)*7+i)%policyBenchUsers))
		}
		everyGroup[name] = changed
		oneGroup[name] = members
		noop[name] = members
	}
	oneGroup["group:resource-100"] = append(append([]string(nil), current["group:resource-100"]...), "granted@example.com")

	for _, bc := range []struct {
		name    string
		desired map[string][]string
		changes int
	}{
		{"every-group", everyGroup, policyBenchGroups},
		{"one-group", oneGroup, 1},
		{"no-op", noop, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			_, changes, err := PatchGroups(policy, bc.desired)
			if err != nil {
				b.Fatal(err)
			}
			if len(changes) != bc.changes {
				b.Fatalf("got %d changes, want %d", len(changes), bc.changes)
			}
			b.SetBytes(int64(len(policy)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := PatchGroups(policy, bc.desired); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
