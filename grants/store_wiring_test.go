package grants_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// devices is a DeviceDeleter that deletes the devices it holds per login.
type devices struct {
	of    map[string][]string
	asked []string
	err   error
}

func (d *devices) DeleteDevicesOf(_ context.Context, login string) ([]string, error) {
	d.asked = append(d.asked, login)
	names := d.of[login]
	delete(d.of, login)
	return names, d.err
}

// commitSession stores a session signed in as email, as scs does.
func commitSession(t *testing.T, st *grants.SessionStore, token, email string, expiry time.Time) {
	t.Helper()
	b, err := (scs.GobCodec{}).Encode(expiry, map[string]any{grants.SessionEmailKey: email})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(token, b, expiry); err != nil {
		t.Fatal(err)
	}
}

func TestSessionsAreOwnedByTheStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		store := grants.NewStore(db)
		now := t0
		st := store.Sessions(func() time.Time { return now })
		commitSession(t, st, "a", "bob@example.com", t0.Add(time.Hour))
		commitSession(t, st, "b", "bob@example.com", t0.Add(2*time.Hour))
		commitSession(t, st, "c", "carol@example.com", t0.Add(time.Minute))
		if _, found, err := st.Find("a"); err != nil || !found {
			t.Fatalf("Find(a) = %v, %v", found, err)
		}
		now = t0.Add(30 * time.Minute)
		if n, err := store.DeleteExpiredSessions(t.Context(), now); err != nil || n != 1 {
			t.Errorf("DeleteExpiredSessions = %d, %v; want carol's one", n, err)
		}
		if n, err := store.DeleteSessionsOf(t.Context(), "bob@example.com"); err != nil || n != 2 {
			t.Errorf("DeleteSessionsOf = %d, %v; want 2", n, err)
		}
		if _, found, err := st.Find("b"); err != nil || found {
			t.Errorf("a deleted session is still found (%v)", err)
		}
	})
}

func TestOffboardingDeletesDevicesWhenTheCatalogSaysSo(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		store := grants.NewStore(db)
		// frank (SUSPENDED) still has a session: the cascade finds him.
		commitSession(t, store.Sessions(func() time.Time { return t0 }), "f", "frank@example.com", t0.Add(time.Hour))
		d := &devices{of: map[string][]string{"frank@example.com": {"frank-laptop"}}, err: errors.New("tailnet API unreachable")}

		keep := *j.cat
		store.OffboardDepartedWithDevices(t.Context(), &keep, d, func() time.Time { return t0 })
		if len(d.asked) != 0 {
			t.Fatalf("devices deleted though the catalog keeps them: %v", d.asked)
		}
		if n, _ := store.DeleteSessionsOf(t.Context(), "frank@example.com"); n != 0 {
			t.Errorf("the cascade left %d sessions", n)
		}

		// A second departure, with deletion on.
		addPerson(t, db, "u9", "gina@example.com", grants.StatusDeprovisioned, "Engineering")
		commitSession(t, store.Sessions(func() time.Time { return t0 }), "g", "gina@example.com", t0.Add(time.Hour))
		d.of["gina@example.com"] = []string{"gina-laptop", "gina-phone"}
		del := *j.cat
		del.DeleteDevices = true
		store.OffboardDepartedWithDevices(t.Context(), &del, d, func() time.Time { return t0.Add(time.Minute) })
		if !slices.Equal(d.asked, []string{"gina@example.com"}) {
			t.Errorf("devices deleted for %v", d.asked)
		}
		page, err := store.ListAuditPage(t.Context(), grants.AuditPageQuery{AuditFilter: grants.AuditFilter{Action: "device.delete"}})
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, e := range page.Events {
			targets = append(targets, e.Target)
		}
		slices.Sort(targets)
		// Devices deleted before the failure are audited all the same.
		if !slices.Equal(targets, []string{"device:gina-laptop", "device:gina-phone"}) {
			t.Errorf("device.delete audit targets %v", targets)
		}
	})
}
