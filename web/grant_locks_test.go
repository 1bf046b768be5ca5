package web_test

import (
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

func TestGrantLocksOnGrantAndAccessPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newAdminFixture(t, db)
		prod := f.catalog.Resources["prod-db"]
		prod.DevicePosture = "custom:jit-prod-db"
		f.catalog.Resources["prod-db"] = prod
		bob := f.addGrant(t, "prod-db", "bob@example.com", nil, "alice@example.com", "incident", true)
		carol := f.addGrant(t, "prod-db", "carol@example.com", nil, "alice@example.com", "deploy", true)
		staging := f.addGrant(t, "staging", "bob@example.com", nil, "alice@example.com", "test", false)
		confirmed := f.now.Add(-58 * time.Minute)
		for _, p := range []grants.DevicePosture{
			{GrantID: bob.ID, DeviceID: "n1", DeviceName: "bob-laptop", AttrKey: prod.DevicePosture, ExpiresAt: bob.ExpiresAt, SetAt: confirmed, ConfirmedAt: &confirmed},
			{GrantID: bob.ID, DeviceID: "n2", DeviceName: "bob-phone", AttrKey: prod.DevicePosture, ExpiresAt: bob.ExpiresAt, SetAt: confirmed, ConfirmedAt: &confirmed},
			{GrantID: carol.ID, DeviceID: "n3", DeviceName: "carol-laptop", AttrKey: prod.DevicePosture, ExpiresAt: carol.ExpiresAt, SetAt: confirmed, ConfirmedAt: &confirmed},
			{GrantID: carol.ID, DeviceID: "n4", DeviceName: "carol-new", AttrKey: prod.DevicePosture, ExpiresAt: carol.ExpiresAt, SetAt: confirmed},
			// Removed: no longer counts.
			{GrantID: carol.ID, DeviceID: "n5", DeviceName: "carol-old", AttrKey: prod.DevicePosture, ExpiresAt: carol.ExpiresAt, SetAt: confirmed, ConfirmedAt: &confirmed, RemovedAt: &confirmed},
		} {
			if err := db.Create(&p).Error; err != nil {
				t.Fatal(err)
			}
		}

		page := func(c, path string) string {
			t.Helper()
			client := f.alice
			if c == "bob" {
				client = f.bob
			}
			res, body := get(t, client, f.srv.URL+path)
			if res.StatusCode != 200 {
				t.Fatalf("%s = %d", path, res.StatusCode)
			}
			return html.UnescapeString(body)
		}
		mustContain := func(body string, wants ...string) {
			t.Helper()
			for _, w := range wants {
				if !contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
		}
		mustContain(page("bob", fmt.Sprintf("/grants/%d", bob.ID)), "in group ✓, posture on 2 of 2 devices ✓", "device posture attribute <code>custom:jit-prod-db</code>")
		mustContain(page("alice", fmt.Sprintf("/grants/%d", carol.ID)), "in group ✓, posture on 1 of 2 devices …")
		staged := page("bob", fmt.Sprintf("/grants/%d", staging.ID))
		mustContain(staged, `<span class="locks">joining the group …</span>`)
		if contains(staged, "posture") {
			t.Error("a resource without devicePosture shows a posture lock")
		}
		access := page("alice", "/admin/access")
		mustContain(access, "in group ✓, posture on 2 of 2 devices ✓", "in group ✓, posture on 1 of 2 devices …", `<span class="locks">joining the group …</span>`)
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
