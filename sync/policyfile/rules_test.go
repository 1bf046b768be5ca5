package policyfile

import (
	"slices"
	"testing"
)

func TestGroupUseListsTheRulesNamingAGroup(t *testing.T) {
	policy := []byte(`{
  // group:jit-db is defined here, which gives nothing by itself.
  "groups": {"group:jit-db": ["a@example.com"], "group:jit-db-admins": [], "group:idle": []},
  "acls": [
    {"action": "accept", "src": ["group:eng"], "dst": ["tag:web:443"]},
    {"action": "accept", "src": ["group:jit-db"], "dst": ["tag:db:5432"]},
    {"action": "accept", "src": ["group:jit-db-admins"], "dst": ["group:jit-db:*"]},
  ],
  "grants": [{"src": ["group:jit-db"], "dst": ["tag:db"], "ip": ["*"]}],
  "ssh": [{"action": "check", "src": ["group:jit-db"], "dst": ["tag:db"], "users": ["root"]}],
  "tagOwners": {"tag:db": ["group:jit-db"], "tag:web": ["group:eng"]},
  "autoApprovers": {"routes": {"10.0.0.0/8": ["group:jit-db"]}, "exitNode": ["group:jit-db"]},
  "nodeAttrs": [{"target": ["group:jit-db"], "attr": ["funnel"]}],
  "tests": [{"src": "group:idle", "accept": ["tag:db:5432"]}],
}`)
	got, err := GroupUse(policy, "group:jit-db")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"acls[1].src", "acls[2].dst", "grants[0].src", "ssh[0].src", "nodeAttrs[0].target",
		"tagOwners[tag:db]", "autoApprovers.routes[10.0.0.0/8]", "autoApprovers.exitNode"}
	if !slices.Equal(got, want) {
		t.Errorf("GroupUse(group:jit-db) = %q, want %q", got, want)
	}
	// A group defined and tested but named by no rule gives nothing; a
	// longer name that starts with it is another group.
	if got, err := GroupUse(policy, "group:idle"); err != nil || len(got) != 0 {
		t.Errorf("GroupUse(group:idle) = %q, %v; want none", got, err)
	}
	if got, _ := GroupUse(policy, "group:jit-db-admins"); !slices.Equal(got, []string{"acls[2].src"}) {
		t.Errorf("GroupUse(group:jit-db-admins) = %q", got)
	}
	if _, err := GroupUse([]byte(`{"acls": [`), "group:x"); err == nil {
		t.Error("a policy that does not parse gave no error")
	}
}
