package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/policyfile"
	"github.com/accessportal/portal/sync/tailnet"
)

// recEngCatalog syncs group:eng from the Okta group "Engineering" and has one
// resource, prod-db, granted through group:jit-prod-db.
func recEngCatalog() *grants.Catalog {
	return &grants.Catalog{
		Groups: map[string]string{"group:eng": "Engineering"},
		Resources: map[string]grants.Resource{
			"prod-db": {Name: "prod-db", Description: "Production database", Group: "group:jit-prod-db", Approvals: 1, MaxDuration: 4 * time.Hour},
		},
	}
}

// TestReconcilerRealPolicies reconciles each real-world policy file: one
// synced group the file already has (when it has groups), one new synced
// group and one new resource group. The managed groups end up holding the
// ACTIVE members (lower-cased, sorted) and the active grantees; every other
// byte is the file's own; a second pass writes nothing.
func TestReconcilerRealPolicies(t *testing.T) {
	files := recPolicyFiles(t)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		in := files[name]
		t.Run(name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				before, err := policyfile.ReadGroups(in)
				if err != nil {
					t.Fatalf("policyfile.ReadGroups(%s): %v", name, err)
				}
				cat := &grants.Catalog{
					Groups:    map[string]string{"group:portal-new": "Portal New"},
					Resources: map[string]grants.Resource{"prod-db": {Name: "prod-db", Group: "group:jit-prod-db"}},
				}
				want := map[string][]string{}
				created := []string{"group:portal-new", "group:jit-prod-db"}
				if len(before) == 0 {
					created = append(created, "groups")
				}

				// The existing group (the middle one by name) follows the Okta
				// group "Okta Existing": everyone but its first member, plus a
				// new hire whose email Okta spells in mixed case, plus people
				// who are not ACTIVE or have no email.
				if len(before) > 0 {
					names := slices.Sorted(maps.Keys(before))
					existing := names[len(names)/2]
					cat.Groups[existing] = "Okta Existing"
					recGroup(t, db, "g-existing", "Okta Existing")
					current := policyfile.NormalizeMembers(before[existing])
					keep := current
					if len(keep) > 0 {
						keep = keep[1:]
					}
					for i, m := range keep {
						id := fmt.Sprintf("existing-%02d", i)
						recUser(t, db, id, m, grants.StatusActive)
						recMember(t, db, "g-existing", id)
					}
					recUser(t, db, "new-hire", "New.Hire@Example.COM", grants.StatusActive)
					recUser(t, db, "suspended", "suspended@example.com", grants.StatusSuspended)
					recUser(t, db, "deprovisioned", "deprovisioned@example.com", grants.StatusDeprovisioned)
					recUser(t, db, "no-email", "", grants.StatusActive)
					recMember(t, db, "g-existing", "new-hire", "suspended", "deprovisioned", "no-email")
					want[existing] = policyfile.NormalizeMembers(append(slices.Clone(keep), "new.hire@example.com"))
				}

				recGroup(t, db, "g-new", "Portal New")
				recUser(t, db, "alice", "alice@example.com", grants.StatusActive)
				recUser(t, db, "bob", "Bob@Example.com", grants.StatusActive)
				recUser(t, db, "carol", "carol@example.com", grants.StatusSuspended)
				recMember(t, db, "g-new", "alice", "bob", "carol")
				want["group:portal-new"] = []string{"alice@example.com", "bob@example.com"}

				recUser(t, db, "dana", "dana@example.com", grants.StatusActive)
				recGrant(t, db, "prod-db", "group:jit-prod-db", "dana@example.com", grants.GrantActive, recEpoch)
				recGrant(t, db, "prod-db", "group:jit-prod-db", "eve@example.com", grants.GrantExpired, recEpoch)
				want["group:jit-prod-db"] = []string{"dana@example.com"}

				e := newRecEnv(t, db, in, cat)
				res := e.pass()
				if !res.Wrote || e.fake.Writes() != 1 {
					t.Fatalf("first pass: wrote=%v, tailnet writes=%d; want one write", res.Wrote, e.fake.Writes())
				}
				out := e.policy()
				for g, m := range want {
					e.wantGroup(g, m)
				}
				recCheckOnlyManaged(t, in, out, slices.Collect(maps.Keys(want)), created...)
				if n := len(recAudit(t, db, "sync.apply")); n != 1 {
					t.Errorf("%d sync.apply audit events, want 1", n)
				}

				res = e.pass()
				if res.Wrote || e.fake.Writes() != 1 || string(e.policy()) != string(out) {
					t.Fatalf("second pass changed the policy: wrote=%v, writes=%d", res.Wrote, e.fake.Writes())
				}
				if n := len(recAudit(t, db, "sync.drift")); n != 0 {
					t.Errorf("%d sync.drift audit events after two clean passes, want 0", n)
				}
			})
		})
	}
}

// TestPassConcurrentEditSurvives lands someone else's edit of an unmanaged
// part of the file between the reconciler's read and its write: the write
// gets 412, the pass re-reads and re-applies, and both changes are there.
func TestPassConcurrentEditSurvives(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 2)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())

		var once gosync.Once
		var edited []byte
		e.fake.BeforeWrite(func() {
			once.Do(func() {
				text, _ := e.fake.Policy()
				text, _, err := policyfile.PatchGroups(text, map[string][]string{"group:oncall": {"pat@example.com", "sam@example.com", "kim@example.com"}})
				if err != nil {
					panic(err)
				}
				edited = append([]byte("// Kim joins the on-call rota.\n"), text...)
				e.fake.SetPolicy(edited)
				e.r.Refresh() // the watch or the webhook hears of it
			})
		})
		e.pass()

		out := e.policy()
		if !strings.HasPrefix(string(out), "// Kim joins the on-call rota.\n") {
			t.Errorf("the concurrent edit's comment is gone:\n%s", out)
		}
		e.wantGroup("group:oncall", []string{"kim@example.com", "pat@example.com", "sam@example.com"})
		e.wantGroup("group:eng", engineers)
		e.wantGroup("group:jit-prod-db", nil)
		recCheckOnlyManaged(t, edited, out, []string{"group:eng", "group:jit-prod-db"}, "group:jit-prod-db")
		if got := recCounter(t, e.metrics.Conflicts); got != 1 {
			t.Errorf("conflicts metric = %v, want 1", got)
		}
		if e.fake.Writes() != 1 {
			t.Errorf("tailnet writes = %d, want 1", e.fake.Writes())
		}
		if st := recStatus(t, db); st.LastError != "" || st.LastSuccessAt == nil {
			t.Errorf("sync status after a retried pass = %+v, want success", st)
		}
	})
}

// TestPassConcurrentEditsWithoutEnd: when the policy changes under every
// write, the pass gives up after MaxAttempts without damaging anything, and
// converges once the edits stop.
func TestPassConcurrentEditsWithoutEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 2)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog(), func(o *Options) { o.MaxAttempts = 3 })

		var mu gosync.Mutex
		edits := 0
		var last []byte
		e.fake.BeforeWrite(func() {
			mu.Lock()
			defer mu.Unlock()
			edits++
			text, _ := e.fake.Policy()
			last = append(fmt.Appendf(nil, "// edit %d\n", edits), text...)
			e.fake.SetPolicy(last)
			e.r.Refresh() // the watch or the webhook hears of it
		})
		_, err := e.r.Pass(e.ctx)
		if !errors.Is(err, tailnet.ErrStalePolicy) {
			t.Fatalf("Pass under endless edits: %v, want tailnet.ErrStalePolicy", err)
		}
		mu.Lock()
		if edits != 3 || string(e.policy()) != string(last) {
			t.Errorf("%d write attempts, policy is the last edit: %v; want 3 attempts and the last edit kept", edits, string(e.policy()) == string(last))
		}
		mu.Unlock()
		if got := recCounter(t, e.metrics.Conflicts); got != 2 {
			t.Errorf("conflicts metric = %v, want 2 (the third 412 ends the pass)", got)
		}
		if st := recStatus(t, db); !strings.Contains(st.LastError, tailnet.ErrStalePolicy.Error()) {
			t.Errorf("last_error = %q, want it to say the policy changed", st.LastError)
		}

		e.fake.BeforeWrite(nil)
		e.pass()
		e.wantGroup("group:eng", engineers)
		if !strings.HasPrefix(string(e.policy()), "// edit 3\n// edit 2\n// edit 1\n") {
			t.Errorf("the concurrent edits did not survive:\n%s", e.policy())
		}
	})
}

// TestPassDriftDuringConflictIsAudited: a hand edit of a managed group that
// lands between read and write is undone by the retry, and audited like any
// other drift.
func TestPassDriftDuringConflictIsAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 2)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		e.pass()

		recUser(t, db, "carol", "carol@example.com", grants.StatusActive)
		recMember(t, db, "eng", "carol")
		var once gosync.Once
		e.fake.BeforeWrite(func() {
			once.Do(func() {
				text, _ := e.fake.Policy()
				text, _, err := policyfile.PatchGroups(text, map[string][]string{"group:eng": append(slices.Clone(engineers), "mallory@example.com")})
				if err != nil {
					panic(err)
				}
				e.fake.SetPolicy(text)
				e.r.Refresh() // the watch or the webhook hears of it
			})
		})
		e.pass()
		e.wantGroup("group:eng", policyfile.NormalizeMembers(append(slices.Clone(engineers), "carol@example.com")))
		drift := recAudit(t, db, "sync.drift")
		if len(drift) != 1 {
			t.Fatalf("%d sync.drift events, want 1 for the edit that landed during the pass", len(drift))
		}
		d := recDetails(t, drift[0])
		if found := recStrings(t, d["found"]); !slices.Contains(found, "mallory@example.com") {
			t.Errorf("drift found = %q, want it to name mallory", found)
		}
		if got := recCounter(t, e.metrics.Drift); got != 1 {
			t.Errorf("drift metric = %v, want 1", got)
		}
	})
}

// recFailAfter arms the fake to fail the request that follows the first
// response to method+suffix with status (n times).
func recFailAfter(e *recEnv, method, suffix string, n, status int) {
	var once gosync.Once
	e.afterResponse(func(m, path string) {
		if m == method && strings.HasSuffix(path, suffix) {
			once.Do(func() { e.fake.FailNext(n, status) })
		}
	})
}

// TestPassTailnetFaults: a 429 storm and 500s at every step of a pass end in
// an error and an untouched policy, never a damaged one, and the next pass
// after the fault converges.
func TestPassTailnetFaults(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 2)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())

		// A storm of 429s, first on the read, then on validation.
		e.fake.RateLimitNext(4)
		failed := 0
		for range 10 {
			if _, err := e.r.Pass(e.ctx); err == nil {
				break
			}
			failed++
			if string(e.policy()) != recSmallPolicy || e.fake.Writes() != 0 {
				t.Fatalf("a rate-limited pass changed the policy:\n%s", e.policy())
			}
			if st := recStatus(t, db); !strings.Contains(st.LastError, "rate limit exceeded") {
				t.Fatalf("last_error = %q, want the 429", st.LastError)
			}
		}
		if failed != 4 {
			t.Fatalf("%d passes failed in a storm of 4 429s, want 4", failed)
		}
		e.wantGroup("group:eng", engineers)

		// A pass that reads the policy afresh (after a hand edit was
		// heard of) reads, asks for warnings, writes; one that holds the
		// policy it last wrote only writes.
		steps := []struct {
			name, method, suffix string // fail the request after this response ("" = the first request)
			fresh                bool
		}{
			{"read", "", "", true},
			{"write after a read", "POST", "/acl/validate", true},
			{"write of the kept policy", "", "", false},
		}
		for i, step := range steps {
			for _, fault := range []struct {
				status int
				msg    string
			}{{429, "rate limit exceeded"}, {500, "simulated failure: internal server error"}, {503, "simulated failure: service unavailable"}} {
				id := fmt.Sprintf("new-%d-%d", i, fault.status)
				recUser(t, db, id, id+"@example.com", grants.StatusActive)
				recMember(t, db, "eng", id)
				engineers = policyfile.NormalizeMembers(append(engineers, id+"@example.com"))
				before, writes := e.policy(), e.fake.Writes()
				if step.fresh {
					e.r.Refresh()
				}
				switch {
				case step.method == "" && fault.status == 429:
					e.fake.RateLimitNext(3)
				case step.method == "":
					e.fake.FailNext(3, fault.status)
				case fault.status == 429:
					var once gosync.Once
					e.afterResponse(func(m, path string) {
						if m == step.method && strings.HasSuffix(path, step.suffix) {
							once.Do(func() { e.fake.RateLimitNext(1) })
						}
					})
				default:
					recFailAfter(e, step.method, step.suffix, 1, fault.status)
				}
				_, err := e.r.Pass(e.ctx)
				e.afterResponse(nil)
				if err == nil {
					t.Fatalf("%s failing with %d: Pass succeeded", step.name, fault.status)
				}
				if string(e.policy()) != string(before) || e.fake.Writes() != writes {
					t.Fatalf("%s failing with %d changed the policy:\n%s", step.name, fault.status, e.policy())
				}
				if st := recStatus(t, db); !strings.Contains(st.LastError, fault.msg) {
					t.Fatalf("%s failing with %d: last_error = %q", step.name, fault.status, st.LastError)
				}
				// The rest of the fault (if any) clears; then one pass converges.
				for range 3 {
					if _, err = e.r.Pass(e.ctx); err == nil {
						break
					}
				}
				if err != nil {
					t.Fatalf("after %s failed with %d: %v", step.name, fault.status, err)
				}
				e.wantGroup("group:eng", engineers)
				recCheckOnlyManaged(t, []byte(recSmallPolicy), e.policy(), []string{"group:eng", "group:jit-prod-db"}, "group:jit-prod-db")
				if st := recStatus(t, db); st.LastError != "" {
					t.Fatalf("last_error = %q after convergence, want empty", st.LastError)
				}
			}
		}
		if drift := recAudit(t, db, "sync.drift"); len(drift) != 0 {
			t.Errorf("faults caused %d sync.drift events, want 0", len(drift))
		}
		if _, err := grants.VerifyAudit(e.ctx, db.DB); err != nil {
			t.Errorf("VerifyAudit: %v", err)
		}
	})
}

// TestPassWritesOnceWithTheKeptPolicy: the reconciler keeps the policy it
// last wrote, so a change costs one request, the write, and is confirmed
// from the write's answer (grant applied, no read-back); a hand edit made
// meanwhile makes that write answer 412, and the re-read applies both.
func TestPassWritesOnceWithTheKeptPolicy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 2)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		e.pass()

		var mu gosync.Mutex
		var requests []string
		e.afterResponse(func(m, path string) {
			mu.Lock()
			defer mu.Unlock()
			requests = append(requests, m+" "+path[strings.LastIndex(path, "/"):])
		})
		recUser(t, db, "dana", "dana@example.com", grants.StatusActive)
		id := recGrant(t, db, "prod-db", "group:jit-prod-db", "dana@example.com", grants.GrantActive, e.clock.Now())
		e.pass()
		if len(requests) != 1 || requests[0] != "POST /acl" {
			t.Fatalf("a grant's pass made %v, want the write alone", requests)
		}
		e.wantGroup("group:jit-prod-db", []string{"dana@example.com"})
		if g := recGetGrant(t, db, id); g.AppliedAt == nil {
			t.Errorf("the written grant is not marked applied")
		}

		// Someone edits the policy by hand; the next write answers 412, the
		// policy is read again and both changes stand.
		edited := strings.Replace(string(e.policy()), `"group:oncall": [`, `"group:oncall": ["kim@example.com", `, 1)
		e.fake.SetPolicy([]byte(edited))
		requests = nil
		recUser(t, db, "erin", "erin@example.com", grants.StatusActive)
		recGrant(t, db, "prod-db", "group:jit-prod-db", "erin@example.com", grants.GrantActive, e.clock.Now())
		e.pass()
		e.afterResponse(nil)
		e.wantGroup("group:jit-prod-db", []string{"dana@example.com", "erin@example.com"})
		if !strings.Contains(string(e.policy()), `"kim@example.com"`) {
			t.Errorf("the hand edit was lost:\n%s", e.policy())
		}
		if len(requests) < 3 || requests[0] != "POST /acl" || requests[1] != "GET /acl" {
			t.Errorf("requests after a hand edit = %v, want a 412 write, a read, a write", requests)
		}
		e.wantGroup("group:eng", engineers)
	})
}

// TestPassValidationErrorSurfaces: a policy the tailnet refuses (an ACL
// that names a group nobody defined) is not written, and the tailnet's
// message is in sync_status.last_error as it was sent.
func TestPassValidationErrorSurfaces(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 2)
		broken := strings.Replace(recSmallPolicy, `"src": ["group:eng"]`, `"src": ["group:eng", "group:ghost"]`, 1)
		e := newRecEnv(t, db, []byte(broken), recEngCatalog())

		_, err := e.r.Pass(e.ctx)
		var verr *tailnet.ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("Pass: %v, want a *tailnet.ValidationError", err)
		}
		const msg = `acls[0].src: group "group:ghost" is not defined`
		st := recStatus(t, db)
		if !strings.Contains(st.LastError, msg) {
			t.Errorf("last_error = %q, want it to hold the tailnet's message %q", st.LastError, msg)
		}
		t.Logf("last_error: %s", st.LastError)
		if string(e.policy()) != broken || e.fake.Writes() != 0 {
			t.Fatalf("a refused policy was written")
		}

		// An admin defines the group by hand; the next pass goes through.
		fixed, _, err := policyfile.PatchGroups(e.policy(), map[string][]string{"group:ghost": {"casper@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		e.fake.SetPolicy(fixed)
		e.r.Refresh() // the watch or the webhook hears of it
		e.pass()
		e.wantGroup("group:eng", engineers)
		e.wantGroup("group:ghost", []string{"casper@example.com"})
		if st := recStatus(t, db); st.LastError != "" {
			t.Errorf("last_error = %q after a good pass", st.LastError)
		}
	})
}

// TestPassDriftRestoredAndAudited: a hand edit of a managed group is undone
// on the next pass and audited with the members expected and found; the
// hand edit's other changes stay.
func TestPassDriftRestoredAndAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 4)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		e.pass()

		handEdited := append(slices.Clone(engineers[1:]), "Mallory@Example.com")
		text, _, err := policyfile.PatchGroups(e.policy(), map[string][]string{"group:eng": handEdited})
		if err != nil {
			t.Fatal(err)
		}
		text = []byte(strings.Replace(string(text), "// Engineers reach staging.", "// Engineers reach staging (reviewed by Pat).", 1))
		e.fake.SetPolicy(text)
		e.r.Refresh() // the watch or the webhook hears of it

		e.clock.Advance(time.Minute)
		if res := e.pass(); !res.Wrote {
			t.Fatal("the pass after a hand edit wrote nothing")
		}
		e.wantGroup("group:eng", engineers)
		if !strings.Contains(string(e.policy()), "(reviewed by Pat)") {
			t.Errorf("restoring the group lost the rest of the hand edit:\n%s", e.policy())
		}
		drift := recAudit(t, db, "sync.drift")
		if len(drift) != 1 {
			t.Fatalf("%d sync.drift events, want 1", len(drift))
		}
		ev := drift[0]
		if ev.Target != "group:eng" || ev.Actor != "system" || !ev.At.Equal(e.clock.Now()) {
			t.Errorf("drift event = %s by %s on %s, want at %s by system on group:eng", ev.At, ev.Actor, ev.Target, e.clock.Now())
		}
		d := recDetails(t, ev)
		if got := recStrings(t, d["expected"]); !slices.Equal(got, engineers) {
			t.Errorf("drift expected = %q, want %q", got, engineers)
		}
		if got, want := recStrings(t, d["found"]), policyfile.NormalizeMembers(handEdited); !slices.Equal(got, want) {
			t.Errorf("drift found = %q, want %q", got, want)
		}
		if got := recCounter(t, e.metrics.Drift); got != 1 {
			t.Errorf("drift metric = %v, want 1", got)
		}

		e.pass()
		if n := len(recAudit(t, db, "sync.drift")); n != 1 {
			t.Errorf("%d sync.drift events after one more clean pass, want still 1", n)
		}
		if _, err := grants.VerifyAudit(e.ctx, db.DB); err != nil {
			t.Errorf("VerifyAudit: %v", err)
		}
	})
}

// TestPassDriftIgnoresGroupsNoLongerManaged: once a group leaves the
// catalog, the portal stops owning it: edits to it are neither undone nor
// reported as drift.
func TestPassDriftIgnoresGroupsNoLongerManaged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 2)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		e.pass()

		e.catalog.Store(&grants.Catalog{Groups: map[string]string{}, Resources: recEngCatalog().Resources})
		e.pass()
		edited := append(slices.Clone(engineers), "pat@example.com")
		text, _, err := policyfile.PatchGroups(e.policy(), map[string][]string{"group:eng": edited})
		if err != nil {
			t.Fatal(err)
		}
		e.fake.SetPolicy(text)
		e.r.Refresh() // the watch or the webhook hears of it
		for range 2 {
			if res := e.pass(); res.Wrote {
				t.Fatalf("a pass rewrote a group the portal no longer manages: %+v", res.Changes)
			}
		}
		e.wantGroup("group:eng", policyfile.NormalizeMembers(edited))
		if drift := recAudit(t, db, "sync.drift"); len(drift) != 0 {
			t.Errorf("%d sync.drift events for an unmanaged group, want 0", len(drift))
		}

		// Managed again later: its current members are the starting point of
		// the brake, not what the portal wrote long ago.
		recUnmember(t, db, "eng", "eng00", "eng01")
		e.catalog.Store(recEngCatalog())
		e.pass()
		e.wantGroup("group:eng", []string{})
		if drift := recAudit(t, db, "sync.drift"); len(drift) != 0 {
			t.Errorf("%d sync.drift events when the group became managed again, want 0", len(drift))
		}
	})
}

// TestPassBrakeHoldsMassRemoval: a synced group of 30 whose Okta snapshot
// drops to 3 is held (the policy keeps the 30, the status and the audit log
// say why); a small removal goes through; an admin's confirmation releases
// the hold.
func TestPassBrakeHoldsMassRemoval(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		ids, all := recPeople(t, db, "eng", "eng", 32)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		e.pass()
		e.wantGroup("group:eng", all)

		// A small removal (2 of 32) goes through.
		recUnmember(t, db, "eng", ids[30:]...)
		thirty := all[:30]
		if res := e.pass(); len(res.Held) != 0 {
			t.Fatalf("removing 2 of 32 was held: %v", res.Held)
		}
		e.wantGroup("group:eng", thirty)

		// Okta answers with 3 of the 30: held. Some left the group, some are
		// suspended: both are removals because of Okta data.
		recUnmember(t, db, "eng", ids[3:20]...)
		for _, id := range ids[20:30] {
			recSetStatus(t, db, id, grants.StatusSuspended)
		}
		e.clock.Advance(time.Minute)
		writes := e.fake.Writes()
		res := e.pass()
		if !slices.Equal(res.Held, []string{"group:eng"}) {
			t.Fatalf("held = %v, want [group:eng]", res.Held)
		}
		if e.fake.Writes() != writes {
			t.Errorf("a held pass wrote the policy")
		}
		e.wantGroup("group:eng", thirty)
		st := recStatus(t, db)
		if !st.Held || !strings.Contains(st.HeldReason, "group:eng") || !strings.Contains(st.HeldReason, "27 of 30") {
			t.Errorf("sync status = held %v, reason %q; want held, naming group:eng and 27 of 30", st.Held, st.HeldReason)
		}
		if st.LastError != "" {
			t.Errorf("a hold is not an error, but last_error = %q", st.LastError)
		}
		holdsEv := recAudit(t, db, "sync.hold")
		if len(holdsEv) != 1 || holdsEv[0].Target != "group:eng" {
			t.Fatalf("sync.hold events = %+v, want one on group:eng", holdsEv)
		}
		d := recDetails(t, holdsEv[0])
		if got := recStrings(t, d["wouldRemove"]); !slices.Equal(got, all[3:30]) {
			t.Errorf("sync.hold wouldRemove = %q, want the 27", got)
		}
		if r, _ := d["reason"].(string); r == "" {
			t.Errorf("sync.hold has no reason: %s", holdsEv[0].Details)
		}
		if got := recCounter(t, e.metrics.Holds); got != 1 {
			t.Errorf("holds metric = %v, want 1", got)
		}
		hs, err := grants.NewStore(db).Holds(e.ctx)
		if err != nil || len(hs) != 1 || hs[0].GroupName != "group:eng" || hs[0].Members != 30 || len(hs[0].RemovalList()) != 27 {
			t.Fatalf("Holds = %+v, %v", hs, err)
		}

		// Held passes repeat neither the write nor the audit event; a new
		// member still gets in.
		recUser(t, db, "newbie", "newbie@example.com", grants.StatusActive)
		recMember(t, db, "eng", "newbie")
		e.pass()
		e.wantGroup("group:eng", policyfile.NormalizeMembers(append(slices.Clone(thirty), "newbie@example.com")))
		if n := len(recAudit(t, db, "sync.hold")); n != 1 {
			t.Errorf("%d sync.hold events after a second held pass, want 1", n)
		}

		// The admin confirms; the next pass removes them; the hold is gone.
		got, err := grants.NewStore(db).ConfirmHold(e.ctx, "group:eng", "admin@example.com", e.clock.Now())
		if err != nil || !slices.Equal(got, []string{"group:eng"}) {
			t.Fatalf("ConfirmHold = %v, %v", got, err)
		}
		if _, err := grants.NewStore(db).ConfirmHold(e.ctx, "group:eng", "admin@example.com", e.clock.Now()); !errors.Is(err, grants.ErrNoHold) {
			t.Errorf("confirming twice: %v, want grants.ErrNoHold", err)
		}
		if res := e.pass(); len(res.Held) != 0 {
			t.Fatalf("held after confirmation: %v", res.Held)
		}
		e.wantGroup("group:eng", policyfile.NormalizeMembers(append(slices.Clone(all[:3]), "newbie@example.com")))
		if hs, _ := grants.NewStore(db).Holds(e.ctx); len(hs) != 0 {
			t.Errorf("holds after the confirmed removal: %+v", hs)
		}
		if st := recStatus(t, db); st.Held || st.HeldReason != "" {
			t.Errorf("sync status still held: %q", st.HeldReason)
		}
		conf := recAudit(t, db, "sync.hold.confirm")
		if len(conf) != 1 || conf[0].Actor != "admin@example.com" {
			t.Errorf("sync.hold.confirm events = %+v", conf)
		}
		if _, err := grants.VerifyAudit(e.ctx, db.DB); err != nil {
			t.Errorf("VerifyAudit: %v", err)
		}
	})
}

// TestPassBrakeReleasedWhenOktaRecovers: a hold caused by a bad Okta answer
// ends by itself when the snapshot is whole again, without removing anyone.
func TestPassBrakeReleasedWhenOktaRecovers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		ids, all := recPeople(t, db, "eng", "eng", 30)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		e.pass()

		recUnmember(t, db, "eng", ids...)
		if res := e.pass(); len(res.Held) != 1 {
			t.Fatalf("emptying the group was not held: %+v", res)
		}
		recMember(t, db, "eng", ids...)
		if res := e.pass(); len(res.Held) != 0 || res.Wrote {
			t.Fatalf("after Okta recovered: %+v", res)
		}
		e.wantGroup("group:eng", all)
		if hs, _ := grants.NewStore(db).Holds(e.ctx); len(hs) != 0 {
			t.Errorf("holds after recovery: %+v", hs)
		}
		if st := recStatus(t, db); st.Held {
			t.Errorf("still held after recovery: %q", st.HeldReason)
		}
	})
}

// TestPassBrakeThresholds: BrakeConfig sets how much removal is held.
func TestPassBrakeThresholds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		brake  BrakeConfig
		remove int // of 30
		held   bool
	}{
		{"default lets 6 go", BrakeConfig{}, 6, false},
		{"default holds 7", BrakeConfig{}, 7, true},
		{"strict holds 2", BrakeConfig{MinPeople: 1, Share: 0.05}, 2, true},
		{"strict lets 1 go", BrakeConfig{MinPeople: 1, Share: 0.05}, 1, false},
		{"lenient lets 27 go", BrakeConfig{MinPeople: 5, Share: 0.9}, 27, false},
		{"min people lets 10 go", BrakeConfig{MinPeople: 10, Share: 0.01}, 10, false},
		{"min people holds 11", BrakeConfig{MinPeople: 10, Share: 0.01}, 11, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				recGroup(t, db, "eng", "Engineering")
				ids, all := recPeople(t, db, "eng", "eng", 30)
				e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog(), func(o *Options) { o.Brake = tc.brake })
				e.pass()
				recUnmember(t, db, "eng", ids[:tc.remove]...)
				res := e.pass()
				if held := len(res.Held) > 0; held != tc.held {
					t.Fatalf("removing %d of 30 with %+v: held = %v, want %v", tc.remove, tc.brake, held, tc.held)
				}
				if tc.held {
					e.wantGroup("group:eng", all)
				} else {
					e.wantGroup("group:eng", all[tc.remove:])
				}
			})
		})
	}
}

// TestPassGrantsAppliedAndRemoved: an active grant puts its user in the
// resource's group and is stamped applied; once it has expired the user
// leaves and it is stamped removed. Many grants ending at once are not
// braked: expiry is not Okta data.
func TestPassGrantsAppliedAndRemoved(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		t0 := e.clock.Now()
		id := recGrant(t, db, "prod-db", "group:jit-prod-db", "dana@example.com", grants.GrantActive, t0)
		var bulk []int64
		var bulkEmails []string
		for i := range 8 {
			email := fmt.Sprintf("oncall%d@example.com", i)
			bulk = append(bulk, recGrant(t, db, "prod-db", "group:jit-prod-db", email, grants.GrantActive, t0))
			bulkEmails = append(bulkEmails, email)
		}
		e.pass()
		e.wantGroup("group:jit-prod-db", policyfile.NormalizeMembers(append(slices.Clone(bulkEmails), "dana@example.com")))
		g := recGetGrant(t, db, id)
		if g.AppliedAt == nil || !g.AppliedAt.Equal(t0) || g.RemovedAt != nil {
			t.Fatalf("grant after the pass: applied %v removed %v, want applied at %s", g.AppliedAt, g.RemovedAt, t0)
		}
		applied := recAudit(t, db, "grant.applied")
		if len(applied) != 9 {
			t.Fatalf("%d grant.applied events, want 9", len(applied))
		}
		if ev := recEventOn(t, applied, fmt.Sprintf("grant:%d", id)); recDetails(t, ev)["user"] != "dana@example.com" || !ev.At.Equal(t0) {
			t.Errorf("grant.applied of dana's grant = %s at %s", ev.Details, ev.At)
		}

		// A pass that changes nothing stamps nothing again.
		e.clock.Advance(time.Minute)
		e.pass()
		if g := recGetGrant(t, db, id); !g.AppliedAt.Equal(t0) {
			t.Errorf("applied_at moved to %v", g.AppliedAt)
		}

		// The grants expire (the sweeper sets the status); the next pass
		// takes them out at once, brake or not.
		t1 := e.clock.Advance(time.Hour)
		if err := db.Model(&grants.Grant{}).Where("id IN ?", append(slices.Clone(bulk), id)).Update("status", grants.GrantExpired).Error; err != nil {
			t.Fatal(err)
		}
		res := e.pass()
		if len(res.Held) != 0 {
			t.Fatalf("expiries were held: %v", res.Held)
		}
		e.wantGroup("group:jit-prod-db", nil)
		g = recGetGrant(t, db, id)
		if g.RemovedAt == nil || !g.RemovedAt.Equal(t1) || !g.AppliedAt.Equal(t0) {
			t.Fatalf("grant after expiry: applied %v removed %v, want removed at %s", g.AppliedAt, g.RemovedAt, t1)
		}
		removed := recAudit(t, db, "grant.removed")
		if len(removed) != 9 {
			t.Fatalf("%d grant.removed events, want 9", len(removed))
		}
		if ev := recEventOn(t, removed, fmt.Sprintf("grant:%d", id)); recDetails(t, ev)["group"] != "group:jit-prod-db" || !ev.At.Equal(t1) {
			t.Errorf("grant.removed of dana's grant = %s at %s", ev.Details, ev.At)
		}
		if n, err := grants.VerifyAudit(e.ctx, db.DB); err != nil || n == 0 {
			t.Errorf("VerifyAudit = %d, %v", n, err)
		}
	})
}

// TestReconcilerCoalescesWakes: 100 changes, each with a Wake, within about
// 100 ms, while Run is live: the policy reaches the final state in at most
// three writes.
func TestReconcilerCoalescesWakes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 3)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		e.pass()
		writes := e.fake.Writes()

		ctx, cancel := context.WithCancel(e.ctx)
		stopped := make(chan struct{})
		go func() { defer close(stopped); e.r.Run(ctx) }()
		defer func() {
			cancel()
			select {
			case <-stopped:
			case <-time.After(recWait):
				t.Errorf("Run did not return after its context ended")
			}
		}()

		added, took := recBurst(t, e, "eng", "burst", 100, 100*time.Millisecond)
		want := policyfile.NormalizeMembers(append(slices.Clone(engineers), added...))
		recAwait(t, e, "group:eng", want)
		n := e.fake.Writes() - writes
		// Passes start at most every MinInterval (100ms), so a burst that
		// fits in 100 ms takes at most 3 writes. Under -race on a loaded
		// machine the burst itself can stretch; the bound then grows with it,
		// one write per MinInterval of burst.
		limit := max(3, int((took+99*time.Millisecond)/(100*time.Millisecond))+2)
		if n < 1 || n > limit {
			t.Errorf("100 changes within %v took %d policy writes, want 1 to %d", took.Round(time.Millisecond), n, limit)
		}
		if got := recCounter(t, e.metrics.Writes); int(got) != n+1 {
			t.Errorf("writes metric = %v, want %d", got, n+1)
		}
		t.Logf("100 changes within %v: %d policy writes", took.Round(time.Millisecond), n)
	})
}

// TestReconcilerAppliesChangesOneByOneAtOnce: changes that come one at a
// time, each after the previous one was written (offboardings one after
// the other, each waking the reconciler again once its cascade is done),
// are no burst: each is written at once, never spaced by MinInterval.
func TestReconcilerAppliesChangesOneByOneAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		_, engineers := recPeople(t, db, "eng", "eng", 3)
		const minInterval = 5 * time.Second
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog(), func(o *Options) { o.MinInterval = minInterval })
		e.pass()
		writes := e.fake.Writes()

		ctx, cancel := context.WithCancel(e.ctx)
		stopped := make(chan struct{})
		go func() { defer close(stopped); e.r.Run(ctx) }()
		defer func() { cancel(); <-stopped }()

		want := slices.Clone(engineers)
		for i := range 6 {
			id := fmt.Sprintf("one%d", i)
			if err := db.Create(&grants.DirectoryUser{ID: id, Login: id + "@example.com", Email: id + "@example.com", Status: grants.StatusActive, SyncedAt: recEpoch}).Error; err != nil {
				t.Fatal(err)
			}
			recMember(t, db, "eng", id)
			start := time.Now()
			e.r.Wake()
			e.r.WakeAgain() // the change's own follow-up: no second change
			want = policyfile.NormalizeMembers(append(want, id+"@example.com"))
			recAwait(t, e, "group:eng", want)
			if took := time.Since(start); took >= minInterval {
				t.Errorf("change %d took %v: spaced as a burst", i, took.Round(time.Millisecond))
			}
		}
		if n := e.fake.Writes() - writes; n != 6 {
			t.Errorf("6 changes one by one took %d writes, want 6", n)
		}
	})
}

// TestPlanChangesNothing: a dry run reads and computes, and writes nothing:
// no policy write, no audit event, no hold, no status; its diff names the
// members added and removed.
func TestPlanChangesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		recGroup(t, db, "eng", "Engineering")
		ids, all := recPeople(t, db, "eng", "eng", 30)
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())

		p, err := e.r.Plan(e.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(p.Old) != recSmallPolicy || len(p.Changes) != 2 {
			t.Fatalf("plan: %d changes %+v", len(p.Changes), p.Changes)
		}
		diff := p.Diff()
		if !strings.HasPrefix(diff, "--- tailnet policy (current)\n+++ tailnet policy (after reconcile)\n") {
			t.Errorf("not a unified diff:\n%s", diff)
		}
		recDiffNames(t, diff, "-", "old.member@example.com")
		recDiffNames(t, diff, "+", all[0], all[29], "group:jit-prod-db")
		if e.fake.Writes() != 0 || string(e.policy()) != recSmallPolicy {
			t.Fatal("Plan wrote the policy")
		}
		if evs := recAudit(t, db, ""); len(evs) != 0 {
			t.Fatalf("Plan appended %d audit events", len(evs))
		}
		if st := recStatus(t, db); st.LastRunAt != nil {
			t.Errorf("Plan recorded a sync status")
		}

		// With drift and a mass removal pending, Plan still records nothing.
		e.pass()
		events := len(recAudit(t, db, ""))
		recUnmember(t, db, "eng", ids[:20]...)
		text, _, err := policyfile.PatchGroups(e.policy(), map[string][]string{"group:eng": append(slices.Clone(all), "mallory@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		e.fake.SetPolicy(text)
		e.r.Refresh() // the watch or the webhook hears of it
		p, err = e.r.Plan(e.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.Held, []string{"group:eng"}) {
			t.Errorf("plan held = %v, want [group:eng]", p.Held)
		}
		recDiffNames(t, p.Diff(), "-", "mallory@example.com")
		if got := len(recAudit(t, db, "")); got != events {
			t.Errorf("Plan appended %d audit events", got-events)
		}
		if hs, _ := grants.NewStore(db).Holds(e.ctx); len(hs) != 0 {
			t.Errorf("Plan recorded holds: %+v", hs)
		}
		if e.fake.Writes() != 1 || string(e.policy()) != string(text) {
			t.Errorf("Plan wrote the policy")
		}
		if got := recCounter(t, e.metrics.Drift) + recCounter(t, e.metrics.Holds); got != 0 {
			t.Errorf("Plan counted drift or holds in the metrics")
		}

		// A plan with nothing to do has an empty diff.
		recMember(t, db, "eng", ids[:20]...)
		e.pass()
		p, err = e.r.Plan(e.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Changes) != 0 || p.Diff() != "" {
			t.Errorf("converged plan: changes %+v, diff:\n%s", p.Changes, p.Diff())
		}
	})
}

// recDiffNames checks that each name is on some diff line starting with sign.
func recDiffNames(t *testing.T, diff, sign string, names ...string) {
	t.Helper()
	lines := strings.Split(diff, "\n")
	for _, name := range names {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, sign) && !strings.HasPrefix(l, sign+sign+sign+" ") && strings.Contains(l, name) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("the diff has no %q line naming %s:\n%s", sign, name, diff)
		}
	}
}

// TestPassDurationWithInjectedClock: the pass duration metric measures real
// time, not the distance between the injected clock and now.
func TestPassDurationWithInjectedClock(t *testing.T) {
	db := dbtest.SQLite(t)
	e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
	e.pass()
	var m dto.Metric
	if err := e.metrics.PassDuration.Write(&m); err != nil {
		t.Fatal(err)
	}
	if s := m.GetHistogram().GetSampleSum(); s < 0 || s > recWait.Seconds() {
		t.Errorf("one pass observed as %v s", s)
	}
}

// TestPassNeverAppliesAGrantPastItsEnd: a grant still marked active but past
// its expiresAt (the sweeper has not run yet, e.g. right after a takeover)
// is over: the pass removes its holder, never writes them back, and stamps
// its removal.
func TestPassNeverAppliesAGrantPastItsEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		t0 := e.clock.Now()
		running := recGrant(t, db, "prod-db", "group:jit-prod-db", "dana@example.com", grants.GrantActive, t0)
		ended := recGrant(t, db, "prod-db", "group:jit-prod-db", "erin@example.com", grants.GrantActive, t0)
		e.pass()
		e.wantGroup("group:jit-prod-db", []string{"dana@example.com", "erin@example.com"})

		// erin's grant reaches its end; nobody sweeps it.
		if err := db.Model(&grants.Grant{}).Where("id = ?", ended).Update("expires_at", t0.Add(30*time.Second)).Error; err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(30 * time.Second)
		e.pass()
		e.wantGroup("group:jit-prod-db", []string{"dana@example.com"})
		if g := recGetGrant(t, db, ended); g.RemovedAt == nil || g.Status != grants.GrantActive {
			t.Errorf("ended grant: status %s removedAt %v, want still active (unswept) with removedAt", g.Status, g.RemovedAt)
		}
		if g := recGetGrant(t, db, running); g.RemovedAt != nil {
			t.Errorf("running grant removed at %v", g.RemovedAt)
		}

		// A fresh reconciler (a takeover) on the same database writes only
		// the running grant.
		e2 := newRecEnv(t, db, []byte(recSmallPolicy), recEngCatalog())
		e2.clock.Advance(30 * time.Second)
		e2.pass()
		e2.wantGroup("group:jit-prod-db", []string{"dana@example.com"})
	})
}
