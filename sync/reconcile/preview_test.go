package reconcile

import (
	"slices"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestPlanForPreviewsAProposedCatalog: PlanFor computes what a pass would
// write under another catalog — the same diff Plan gives once that catalog
// is in use — and changes nothing.
func TestPlanForPreviewsAProposedCatalog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recUser(t, db, "u1", "alice@example.com", grants.StatusActive)
		recUser(t, db, "u2", "bob@example.com", grants.StatusActive)
		recGroup(t, db, "g1", "Engineering")
		recGroup(t, db, "g2", "SRE")
		recMember(t, db, "g1", "u1", "u2")
		recMember(t, db, "g2", "u2")
		cur := &grants.Catalog{Groups: map[string]string{"group:eng": "Engineering"}, Resources: map[string]grants.Resource{}}
		e := newRecEnv(t, db, nil, cur)
		e.pass()
		e.wantGroup("group:eng", []string{"alice@example.com", "bob@example.com"})
		before := e.policy()

		proposed := &grants.Catalog{Groups: map[string]string{"group:eng": "Engineering", "group:sre": "SRE"}, Resources: map[string]grants.Resource{}}
		preview, err := e.r.PlanFor(e.ctx, proposed)
		if err != nil {
			t.Fatal(err)
		}
		if len(preview.Changes) != 1 || preview.Changes[0].Group != "group:sre" || !preview.Changes[0].Created ||
			!slices.Equal(preview.Changes[0].Added, []string{"bob@example.com"}) {
			t.Errorf("changes = %+v", preview.Changes)
		}
		if string(e.policy()) != string(before) {
			t.Error("PlanFor wrote the policy")
		}
		if plan, err := e.r.Plan(e.ctx, nil); err != nil || len(plan.Changes) != 0 {
			t.Errorf("Plan under the current catalog = %+v, %v", plan, err)
		}
		e.catalog.Store(proposed)
		plan, err := e.r.Plan(e.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Diff() != preview.Diff() || !strings.Contains(preview.Diff(), `"group:sre"`) {
			t.Errorf("preview diff:\n%s\nplan diff once in use:\n%s", preview.Diff(), plan.Diff())
		}
	})
}

// TestKeepEmptyGroups: a synced group moved to keepEmpty is emptied (no
// brake: an admin chose it), stays managed (hand edits are drift) and is
// left alone once dropped from the catalog.
func TestKeepEmptyGroups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "g1", "Engineering")
		_, emails := recPeople(t, db, "g1", "eng", 12)
		cat := &grants.Catalog{Groups: map[string]string{"group:eng": "Engineering"}, Resources: map[string]grants.Resource{}}
		e := newRecEnv(t, db, nil, cat)
		e.pass()
		e.wantGroup("group:eng", emails)

		e.catalog.Store(&grants.Catalog{Groups: map[string]string{}, Resources: map[string]grants.Resource{}, KeepEmpty: []string{"group:eng"}})
		if res := e.pass(); len(res.Held) != 0 {
			t.Errorf("emptying a group on an admin's word was held: %v", res.Held)
		}
		e.wantGroup("group:eng", nil)
		e.fake.SetPolicy([]byte(strings.Replace(string(e.policy()), `"group:eng": []`, `"group:eng": ["mallory@example.com"]`, 1)))
		e.r.Refresh() // the watch or the webhook hears of it
		e.pass()
		e.wantGroup("group:eng", nil)
		if len(recAudit(t, db, "sync.drift")) != 1 {
			t.Error("a hand edit of a group kept empty was not audited as drift")
		}

		e.catalog.Store(&grants.Catalog{Groups: map[string]string{}, Resources: map[string]grants.Resource{}})
		e.fake.SetPolicy([]byte(strings.Replace(string(e.policy()), `"group:eng": []`, `"group:eng": ["mallory@example.com"]`, 1)))
		e.r.Refresh() // the watch or the webhook hears of it
		e.pass()
		e.wantGroup("group:eng", []string{"mallory@example.com"})
		if _, ok, err := grants.NewStore(db).LastApplied(e.ctx, "group:eng"); err != nil || ok {
			t.Errorf("an unmanaged group is still recorded: %v %v", ok, err)
		}
	})
}
