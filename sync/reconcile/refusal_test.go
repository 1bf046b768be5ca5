package reconcile

import (
	"strings"
	"testing"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/policyfile"
	"github.com/accessportal/portal/sync/tailnetfake"
)

// recTestedPolicy is recSmallPolicy with a policy test the customer relies
// on: eng01 must reach staging.
const recTestedPolicy = `{
	"groups": {
		"group:eng": ["eng00@example.com", "eng01@example.com"], // portal
	},
	"acls": [
		{"action": "accept", "src": ["group:eng"], "dst": ["tag:staging:*"]},
		{"action": "accept", "src": ["group:jit-prod-db"], "dst": ["tag:prod-db:5432"]},
	],
	"tests": [
		{"src": "eng01@example.com", "accept": ["tag:staging:22"]},
	],
}
`

// TestPassAppliesEverythingTheTailnetDoesNotRefuse: the control plane
// refuses the change of group:eng (the customer's policy test needs eng01
// there), yet the departed grantee's removal from another group is written
// at once; the refusal is shown verbatim in the sync status and audited
// once; the refused change is retried on every pass.
func TestPassAppliesEverythingTheTailnetDoesNotRefuse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		ids, _ := recPeople(t, db, "eng", "eng", 2)
		recUser(t, db, "dana", "dana@example.com", grants.StatusActive)
		e := newRecEnv(t, db, []byte(recTestedPolicy), recEngCatalog())
		recGrant(t, db, "prod-db", "group:jit-prod-db", "dana@example.com", grants.GrantActive, e.clock.Now())
		e.pass()
		e.wantGroup("group:jit-prod-db", []string{"dana@example.com"})

		// eng01 leaves Engineering (the test would fail) and dana departs.
		recUnmember(t, db, "eng", ids[1])
		recSetStatus(t, db, "dana", grants.StatusSuspended)
		res := e.pass()
		e.wantGroup("group:jit-prod-db", []string{})
		e.wantGroup("group:eng", []string{"eng00@example.com", "eng01@example.com"})
		msg, refused := res.Refused["group:eng"]
		if !refused || !strings.Contains(msg, "test(s) failed") || len(res.Refused) != 1 {
			t.Fatalf("refused = %v, want group:eng with the tailnet's message", res.Refused)
		}
		st := recStatus(t, db)
		if !strings.Contains(st.LastError, "group:eng") || !strings.Contains(st.LastError, msg) || st.RefusalMap()["group:eng"] != msg {
			t.Errorf("sync status: lastError %q refusals %q", st.LastError, st.Refusals)
		}
		if n := len(recAudit(t, db, "sync.refused")); n != 1 {
			t.Errorf("%d sync.refused events, want 1", n)
		}
		var alerts int64
		db.Model(&grants.Notification{}).Where("kind = ?", grants.NotifySyncRefused).Count(&alerts)
		if alerts != 1 {
			t.Errorf("%d sync.refused notifications to the admins, want 1", alerts)
		}

		// The next pass tries again, refused again, audited once only.
		res = e.pass()
		if _, refused := res.Refused["group:eng"]; !refused {
			t.Errorf("second pass did not try group:eng again: %v", res.Refused)
		}
		if n := len(recAudit(t, db, "sync.refused")); n != 1 {
			t.Errorf("%d sync.refused events after a second pass, want still 1", n)
		}
	})
}

// TestPassValidationWarningsAreNoRefusal: /acl/validate answering 200 with
// warnings (a group SCIM does not sync) is no refusal: the pass writes and
// keeps the warnings for the sync status.
func TestPassValidationWarningsAreNoRefusal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, emails := recPeople(t, db, "eng", "eng", 2)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		e.fake.SetWarnings(tailnetfake.SCIMWarning("group:eng"))
		res := e.pass()
		e.wantGroup("group:eng", emails)
		if !res.Wrote || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "SCIM") {
			t.Fatalf("pass = wrote %v warnings %q", res.Wrote, res.Warnings)
		}
		if st := recStatus(t, db); st.LastError != "" || len(st.WarningList()) != 1 {
			t.Errorf("sync status: lastError %q warnings %q", st.LastError, st.Warnings)
		}
	})
}

// TestPassSkipsMembersThatAreNoLogins: a member whose Okta email is not an
// email is left out with a warning; everyone else, departures included, is
// applied.
func TestPassSkipsMembersThatAreNoLogins(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, emails := recPeople(t, db, "eng", "eng", 2)
		recUser(t, db, "bad", "not an email", grants.StatusActive)
		recMember(t, db, "eng", "bad")
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		res := e.pass()
		e.wantGroup("group:eng", emails)
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `"not an email"`) {
			t.Fatalf("warnings = %q", res.Warnings)
		}
	})
}

// TestPresentStatusesKeepAccess: people in ordinary password trouble
// (LOCKED_OUT, PASSWORD_EXPIRED, RECOVERY) stay in their synced groups and
// keep their grants; SUSPENDED and DEPROVISIONED people leave both; STAGED
// and PROVISIONED people are members of nothing.
func TestPresentStatusesKeepAccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		statuses := []string{grants.StatusActive, grants.StatusLockedOut, grants.StatusPasswordExpired, grants.StatusRecovery,
			grants.StatusSuspended, grants.StatusDeprovisioned, grants.StatusStaged, grants.StatusProvisioned}
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		var present []string
		for _, st := range statuses {
			id := strings.ToLower(strings.ReplaceAll(st, "_", "-"))
			email := id + "@example.com"
			recUser(t, db, id, email, st)
			recMember(t, db, "eng", id)
			recGrant(t, db, "prod-db", "group:jit-prod-db", email, grants.GrantActive, e.clock.Now())
			if grants.Present(st) {
				present = append(present, email)
			}
		}
		e.pass()
		want := policyfile.NormalizeMembers(present)
		e.wantGroup("group:eng", want)
		e.wantGroup("group:jit-prod-db", want)
	})
}

// TestPassBeforeTheFirstOktaRead: until a poll has completed a read of Okta
// (a fresh database, a hook arriving first), a synced group keeps what the
// policy has — it is never emptied for want of a snapshot — and only people
// Okta said have left are removed; resource groups are kept as usual.
func TestPassBeforeTheFirstOktaRead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		policy := strings.Replace(recSmallPolicy, `"group:eng": ["old.member@example.com"]`, `"group:eng": ["amy@example.com", "bob@example.com", "cy@example.com"]`, 1)
		e := newRecEnv(t, db, []byte(policy), recEngCatalog())
		if err := db.Exec("UPDATE sync_status SET directory_read_at = NULL").Error; err != nil {
			t.Fatal(err)
		}
		// A hook told of bob's departure before any poll completed.
		recUser(t, db, "bob", "bob@example.com", grants.StatusDeprovisioned)
		recUser(t, db, "dana", "dana@example.com", grants.StatusActive)
		recGrant(t, db, "prod-db", "group:jit-prod-db", "dana@example.com", grants.GrantActive, e.clock.Now())
		e.pass()
		e.wantGroup("group:eng", []string{"amy@example.com", "cy@example.com"})
		e.wantGroup("group:jit-prod-db", []string{"dana@example.com"})
	})
}
