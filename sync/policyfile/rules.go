package policyfile

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tailscale/hujson"
)

// GroupUse lists the places of policy's rules that name group
// (https://tailscale.com/kb/1337/policy-syntax): "acls[2].src",
// "grants[0].dst", "ssh[1].src", "tagOwners[tag:ci]",
// "autoApprovers.routes[10.0.0.0/8]", "autoApprovers.exitNode",
// "nodeAttrs[0].target". A selector with a port ("group:eng:*") names the
// group. The group's own definition in "groups" and its mentions in
// "tests" give nobody anything and are not listed: an empty answer means
// that members of group get nothing from the policy.
func GroupUse(policy []byte, group string) ([]string, error) {
	std, err := hujson.Standardize(slices.Clone(policy))
	if err != nil {
		return nil, fmt.Errorf("parsing policy: %w", err)
	}
	type rule struct {
		Src    []string `json:"src"`
		Dst    []string `json:"dst"`
		Users  []string `json:"users"`
		Target []string `json:"target"`
	}
	var doc struct {
		ACLs          []rule              `json:"acls"`
		Grants        []rule              `json:"grants"`
		SSH           []rule              `json:"ssh"`
		NodeAttrs     []rule              `json:"nodeAttrs"`
		TagOwners     map[string][]string `json:"tagOwners"`
		AutoApprovers struct {
			Routes   map[string][]string `json:"routes"`
			ExitNode []string            `json:"exitNode"`
			Services map[string][]string `json:"services"`
		} `json:"autoApprovers"`
	}
	if err := json.Unmarshal(std, &doc); err != nil {
		return nil, fmt.Errorf("reading policy rules: %w", err)
	}
	names := func(list []string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return s == group || strings.HasPrefix(s, group+":") })
	}
	var out []string
	for _, section := range []struct {
		name  string
		rules []rule
	}{{"acls", doc.ACLs}, {"grants", doc.Grants}, {"ssh", doc.SSH}, {"nodeAttrs", doc.NodeAttrs}} {
		for i, r := range section.rules {
			for _, f := range []struct {
				name string
				list []string
			}{{"src", r.Src}, {"dst", r.Dst}, {"users", r.Users}, {"target", r.Target}} {
				if names(f.list) {
					out = append(out, fmt.Sprintf("%s[%d].%s", section.name, i, f.name))
				}
			}
		}
	}
	keyed := func(prefix string, m map[string][]string) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if names(m[k]) {
				out = append(out, prefix+"["+k+"]")
			}
		}
	}
	keyed("tagOwners", doc.TagOwners)
	keyed("autoApprovers.routes", doc.AutoApprovers.Routes)
	keyed("autoApprovers.services", doc.AutoApprovers.Services)
	if names(doc.AutoApprovers.ExitNode) {
		out = append(out, "autoApprovers.exitNode")
	}
	return out, nil
}
