package web_test

import (
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// posturePolicy requires posture:jit-prod-db, which names the resource's
// attribute, for the prod-db rule.
const posturePolicy = `{
	"groups": {"group:jit-prod-db": []},
	"postures": {
		"posture:jit-prod-db": ["custom:jit-prod-db == true"],
		"posture:latest": ["node:tsReleaseTrack == 'stable'"],
	},
	"grants": [
		{"src": ["group:jit-prod-db"], "dst": ["tag:prod-db"], "ip": ["5432"], "srcPosture": ["posture:jit-prod-db"]},
	],
}`

func TestApproverPreviewShowsBothLocks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		pp := newPagesPortal(t, db, true)
		res := pp.catalog.Resources["prod-db"]
		res.DevicePosture = "custom:jit-prod-db"
		pp.catalog.Resources["prod-db"] = res
		pp.setPolicy(posturePolicy, nil)
		fileRequest(t, pp, "bob", "prod-db", 0, scriptReason)

		inbox := pp.get(t, "carol", "/approvals")
		inbox.must(t, 200, "bob@example.com joins <code>group:jit-prod-db</code> until the grant ends.",
			"Second lock: device posture", "untagged devices carries <code>custom:jit-prod-db</code> until the grant ends",
			"(postures <code>posture:jit-prod-db</code>)",
			`<span class="line ref"><span class="ln">4</span>		&#34;posture:jit-prod-db&#34;: [&#34;custom:jit-prod-db == true&#34;],</span>`,
			`<span class="ln">8</span>		{&#34;src&#34;: [&#34;group:jit-prod-db&#34;]`)
		inbox.mustNot(t, "Warning: no <code>srcPosture</code>", `<span class="line ref"><span class="ln">5</span>`)

		// The posture exists but no rule requires it: a warning.
		pp.setPolicy(`{"postures": {"posture:jit-prod-db": ["custom:jit-prod-db == true"]}, "grants": [{"src": ["group:jit-prod-db"], "dst": ["*"], "ip": ["*"]}]}`, nil)
		pp.get(t, "carol", "/approvals").must(t, 200, "Warning: no <code>srcPosture</code> in the policy requires a posture that names <code>custom:jit-prod-db</code>, so the second lock")
		// No posture names it at all.
		pp.setPolicy(`{"grants": [{"src": ["group:jit-prod-db"], "dst": ["*"], "ip": ["*"], "srcPosture": ["posture:latest"]}], "postures": {"posture:latest": ["node:os == 'linux'"]}}`, nil)
		pp.get(t, "carol", "/approvals").must(t, 200, "(no entry of <code>postures</code> names it)")

		// A resource without devicePosture has one lock only.
		fileRequest(t, pp, "bob", "staging", 0, "x")
		if n := pp.get(t, "carol", "/approvals").count("Second lock"); n != 1 {
			t.Errorf("carol (prod-db) sees %d second-lock sections, want 1", n)
		}
		staging := pp.get(t, "adam", "/approvals")
		staging.must(t, 200, "joins <code>group:jit-staging</code>")
		if n := staging.count("Second lock"); n != 0 {
			t.Errorf("adam (staging) sees %d second-lock sections, want 0", n)
		}
	})
}
