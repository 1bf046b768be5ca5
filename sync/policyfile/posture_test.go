package policyfile

import (
	"slices"
	"testing"
)

func TestReadPostureUse(t *testing.T) {
	cases := []struct {
		name, policy string
		postures     []string
		required     bool
	}{
		{"required by a grant", `{"postures": {"posture:jit": ["custom:jit == true"], "posture:os": ["node:os == 'linux'"]},
			"grants": [{"src": ["group:a"], "dst": ["*"], "ip": ["*"], "srcPosture": ["posture:jit"]}]}`, []string{"posture:jit"}, true},
		{"required by an ACL, no spaces, comments", `{
			// the second lock
			"postures": {"posture:jit": ["custom:jit==true", "node:tsVersion >= '1.60'"]},
			"acls": [{"action": "accept", "src": ["group:a"], "dst": ["*:*"], "srcPosture": ["posture:jit"]}],
		}`, []string{"posture:jit"}, true},
		{"required by default", `{"postures": {"posture:jit": ["custom:jit == true"]}, "defaultSrcPosture": ["posture:jit"]}`, []string{"posture:jit"}, true},
		{"defined, not required", `{"postures": {"posture:jit": ["custom:jit == true"]}, "grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"]}]}`, []string{"posture:jit"}, false},
		{"a longer attribute name is another attribute", `{"postures": {"posture:x": ["custom:jit-extra == true"]}, "defaultSrcPosture": ["posture:x"]}`, nil, false},
		{"no postures", `{"acls": []}`, nil, false},
	}
	for _, c := range cases {
		use, err := ReadPostureUse([]byte(c.policy), "custom:jit")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(use.Postures, c.postures) || use.Required != c.required {
			t.Errorf("%s: %+v, want postures %v required %v", c.name, use, c.postures, c.required)
		}
	}
	if _, err := ReadPostureUse([]byte(`{"postures": `), "custom:jit"); err == nil {
		t.Error("a broken policy was read")
	}
}
