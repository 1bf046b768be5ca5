package policyfile

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/tailscale/hujson"
)

// PostureUse says how a policy uses a device posture attribute: the
// postures (Tailscale's "postures" section, https://tailscale.com/kb/1288/device-posture)
// whose conditions name attr, and whether any rule's srcPosture, or the
// defaultSrcPosture, requires one of them.
type PostureUse struct {
	Postures []string
	Required bool
}

// ReadPostureUse reads how policy uses attr (e.g. "custom:jit-prod-db").
func ReadPostureUse(policy []byte, attr string) (PostureUse, error) {
	std, err := hujson.Standardize(slices.Clone(policy))
	if err != nil {
		return PostureUse{}, fmt.Errorf("parsing policy: %w", err)
	}
	var doc struct {
		Postures          map[string][]string `json:"postures"`
		DefaultSrcPosture []string            `json:"defaultSrcPosture"`
		Grants            []struct {
			SrcPosture []string `json:"srcPosture"`
		} `json:"grants"`
		ACLs []struct {
			SrcPosture []string `json:"srcPosture"`
		} `json:"acls"`
	}
	if err := json.Unmarshal(std, &doc); err != nil {
		return PostureUse{}, fmt.Errorf("reading policy postures: %w", err)
	}
	var use PostureUse
	for name, conds := range doc.Postures {
		if slices.ContainsFunc(conds, func(c string) bool { return namesAttribute(c, attr) }) {
			use.Postures = append(use.Postures, name)
		}
	}
	slices.Sort(use.Postures)
	required := func(list []string) bool {
		return slices.ContainsFunc(list, func(p string) bool { return slices.Contains(use.Postures, p) })
	}
	use.Required = required(doc.DefaultSrcPosture)
	for _, g := range doc.Grants {
		use.Required = use.Required || required(g.SrcPosture)
	}
	for _, a := range doc.ACLs {
		use.Required = use.Required || required(a.SrcPosture)
	}
	return use, nil
}

// namesAttribute reports whether a posture condition ("custom:x == true",
// "custom:x IN ['a']") is about attr.
func namesAttribute(cond, attr string) bool {
	cond = strings.TrimSpace(cond)
	if i := strings.IndexAny(cond, " =!<>"); i >= 0 {
		cond = cond[:i]
	}
	return cond == attr
}
