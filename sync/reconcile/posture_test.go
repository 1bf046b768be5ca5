package reconcile

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/tailnet"
	"github.com/accessportal/portal/sync/tailnetfake"
)

// postureCatalog has one resource whose grants also set a posture attribute.
func postureCatalog() *grants.Catalog {
	c := recEngCatalog()
	r := c.Resources["prod-db"]
	r.DevicePosture = "custom:jit_prod_db"
	c.Resources["prod-db"] = r
	return c
}

// TestPostureIsTheSecondLock: a grant on a posture resource sets the
// attribute, with the grant's expiry, on each untagged device of the
// grantee and never on a tagged one; with the portal stopped the simulated
// tailnet drops it at the expiry by itself; an extension moves it; a device
// added mid-grant gets it; a revocation deletes it. Each change is recorded
// and audited.
func TestPostureIsTheSecondLock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		clock := &recClock{now: recEpoch}
		fake, url, stop, err := tailnetfake.Start(tailnetfake.Options{Tailnet: "example.com", APIKeys: []string{recAPIKey}, Policy: []byte(recSmallPolicy), Clock: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		tn, err := tailnet.New(tailnet.Config{APIURL: url, APIKey: recAPIKey, HTTPClient: &http.Client{Timeout: recWait}})
		if err != nil {
			t.Fatal(err)
		}
		laptop := fake.AddDevice(tailnetfake.Device{Name: "dana-laptop.example.ts.net", User: "dana@example.com"})
		phone := fake.AddDevice(tailnetfake.Device{Name: "dana-phone.example.ts.net", User: "Dana@Example.com"})
		server := fake.AddDevice(tailnetfake.Device{Name: "db-1.example.ts.net", User: "dana@example.com", Tags: []string{"tag:prod"}})
		r := New(Options{Store: grants.NewStore(db), Catalog: postureCatalog, Policy: tn, Devices: tn, Clock: clock.Now})
		ctx := context.Background()
		postures := func() {
			t.Helper()
			if err := r.Postures(ctx); err != nil {
				t.Fatalf("posture pass: %v", err)
			}
		}
		expiry := func(d tailnetfake.Device) time.Time {
			t.Helper()
			a, ok := fake.PostureAttributes(d.NodeID)["custom:jit_prod_db"]
			if !ok {
				return time.Time{}
			}
			if a.Value != true {
				t.Errorf("%s carries %v, want true", d.Name, a.Value)
			}
			return a.Expiry
		}

		recUser(t, db, "dana", "dana@example.com", grants.StatusActive)
		id := recGrant(t, db, "prod-db", "group:jit-prod-db", "dana@example.com", grants.GrantActive, clock.Now())
		ends := recGetGrant(t, db, id).ExpiresAt
		postures()
		for _, d := range []tailnetfake.Device{laptop, phone} {
			if got := expiry(d); !got.Equal(ends) {
				t.Errorf("%s: attribute expiry %v, want the grant's %v", d.Name, got, ends)
			}
		}
		if got := expiry(server); !got.IsZero() {
			t.Errorf("the tagged server got the attribute (expiry %v)", got)
		}
		if c, _ := grants.NewStore(db).PostureCounts(ctx, []int64{id}); c[id] != (grants.PostureCount{Confirmed: 2, Devices: 2}) {
			t.Errorf("posture count %+v, want 2 of 2 confirmed", c[id])
		}

		// An extension moves the expiry.
		later := ends.Add(time.Hour)
		if err := db.Model(&grants.Grant{}).Where("id = ?", id).Update("expires_at", later).Error; err != nil {
			t.Fatal(err)
		}
		tablet := fake.AddDevice(tailnetfake.Device{Name: "dana-tablet.example.ts.net", User: "dana@example.com"})
		postures()
		for _, d := range []tailnetfake.Device{laptop, phone, tablet} {
			if got := expiry(d); !got.Equal(later) {
				t.Errorf("%s after the extension: expiry %v, want %v", d.Name, got, later)
			}
		}

		// With nobody acting, Tailscale ends it at the expiry.
		clock.Advance(later.Sub(clock.Now()) + time.Second)
		if got := expiry(laptop); !got.IsZero() {
			t.Errorf("the attribute outlived its expiry in the tailnet")
		}

		// A new grant, then its revocation: the attribute is deleted.
		if err := db.Model(&grants.Grant{}).Where("id = ?", id).Update("status", grants.GrantExpired).Error; err != nil {
			t.Fatal(err)
		}
		id2 := recGrant(t, db, "prod-db", "group:jit-prod-db", "dana@example.com", grants.GrantActive, clock.Now())
		postures()
		if expiry(laptop).IsZero() {
			t.Fatalf("the second grant's attribute is missing")
		}
		if err := db.Model(&grants.Grant{}).Where("id = ?", id2).Update("status", grants.GrantRevoked).Error; err != nil {
			t.Fatal(err)
		}
		postures()
		for _, d := range []tailnetfake.Device{laptop, phone, tablet} {
			if got := expiry(d); !got.IsZero() {
				t.Errorf("%s keeps the attribute after the revocation", d.Name)
			}
		}
		if n := len(recAudit(t, db, "posture.remove")); n < 3 {
			t.Errorf("%d posture.remove events, want at least 3", n)
		}
	})
}

// TestPostureWithoutTheScope: a credential without the posture scope keeps
// group membership working and says once why the second lock is off.
func TestPostureWithoutTheScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		fake, url, stop, err := tailnetfake.Start(tailnetfake.Options{
			Tailnet: "example.com", Policy: []byte(recSmallPolicy),
			ScopedClients: []tailnetfake.OAuthClient{{ID: "cid", Secret: "cs", Scopes: []string{"policy_file"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		fake.AddDevice(tailnetfake.Device{Name: "dana-laptop.example.ts.net", User: "dana@example.com"})
		tn, err := tailnet.New(tailnet.Config{APIURL: url, OAuthClientID: "cid", OAuthClientSecret: "cs"})
		if err != nil {
			t.Fatal(err)
		}
		r := New(Options{Store: grants.NewStore(db), Catalog: postureCatalog, Policy: tn, Devices: tn})
		recUser(t, db, "dana", "dana@example.com", grants.StatusActive)
		recGrant(t, db, "prod-db", "group:jit-prod-db", "dana@example.com", grants.GrantActive, time.Now())
		if err := r.Postures(context.Background()); !tailnet.IsMissingScope(err) {
			t.Fatalf("posture pass = %v, want a missing scope", err)
		}
		res, err := r.Pass(context.Background())
		if err != nil || !res.Wrote {
			t.Fatalf("membership pass = %+v, %v; want it to work without the posture scope", res, err)
		}
		found := false
		for _, w := range res.Warnings {
			found = found || strings.Contains(w, "devices:posture_attributes")
		}
		if !found {
			t.Errorf("warnings %q do not say why posture is off", res.Warnings)
		}
	})
}
