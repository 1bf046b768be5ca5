package grants_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestCatalogRetiredAndKeepEmpty covers the catalog keys the dashboard
// needs: a retired resource and groups kept empty parse, format, round
// trip and are validated like every other key.
func TestCatalogRetiredAndKeepEmpty(t *testing.T) {
	text := `{
  "admins": ["Portal Admins"],
  "groups": {"group:eng": "Engineering"},
  "resources": {
    "old-db": {"group": "group:jit-old-db", "retired": true},
    "new-db": {"group": "group:jit-new-db"},
  },
  "keepEmpty": ["group:sre", "group:contractors"],
}`
	c, err := grants.ParseCatalog("c.hujson", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Resources["old-db"].Retired || c.Resources["new-db"].Retired {
		t.Errorf("retired = %v / %v", c.Resources["old-db"].Retired, c.Resources["new-db"].Retired)
	}
	if !slices.Equal(c.KeepEmpty, []string{"group:contractors", "group:sre"}) {
		t.Errorf("KeepEmpty = %q", c.KeepEmpty)
	}
	want := []string{"group:contractors", "group:eng", "group:jit-new-db", "group:jit-old-db", "group:sre"}
	if got := c.ManagedGroups(); !slices.Equal(got, want) {
		t.Errorf("ManagedGroups = %q, want %q", got, want)
	}
	out := string(c.Format())
	if !strings.Contains(out, `      "retired": true,`) || strings.Count(out, `"retired"`) != 1 ||
		!strings.Contains(out, `  "keepEmpty": ["group:contractors", "group:sre"],`+"\n}") {
		t.Errorf("Format =\n%s", out)
	}
	again, err := grants.ParseCatalog("formatted", c.Format())
	if err != nil || string(again.Format()) != out {
		t.Errorf("round trip: %v\n%s", err, again.Format())
	}
	// Without them, Format is as before: no keepEmpty, no retired.
	plain, _ := grants.ParseCatalog("p", []byte(`{"resources": {"db": {"group": "group:db"}}}`))
	if f := string(plain.Format()); strings.Contains(f, "keepEmpty") || strings.Contains(f, "retired") {
		t.Errorf("plain Format =\n%s", f)
	}

	rejects := []struct{ text, want string }{
		{`{"resources": {"db": {"group": "group:db", "retired": "yes"}}}`, `x:1: resources.db.retired: must be true or false, not a string`},
		{`{"resources": {"db": {"group": "group:db", "Retired": true}}}`, `resources.db.Retired: unknown key (did you mean "retired"?)`},
		{`{"keepEmpty": "group:x"}`, `keepEmpty: must be a list of Tailscale groups, not a string`},
		{`{"keepEmpty": ["sre"]}`, `keepEmpty[0]: Tailscale group "sre" must start with "group:"`},
		{"{\"keepEmpty\": [\"group:a\",\n \"group:a\"]}", `x:2: keepEmpty[1]: "group:a" is listed twice (first on line 1)`},
		{"{\"groups\": {\"group:a\": \"A\"},\n\"keepEmpty\": [\"group:a\"]}", `x:2: keepEmpty[0]: "group:a" is also a synced group (groups, line 1)`},
		{"{\"resources\": {\"db\": {\"group\": \"group:a\"}},\n\"keepEmpty\": [\"group:a\"]}", `keepEmpty[0]: "group:a" is also the group of resource "db" (resources, line 1)`},
		{`{"keepempty": []}`, `keepempty: unknown key (did you mean "keepEmpty"?)`},
	}
	for _, r := range rejects {
		_, err := grants.ParseCatalog("x", []byte(r.text))
		var ce *grants.CatalogError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), r.want) {
			t.Errorf("ParseCatalog(%s) = %v, want %q", r.text, err, r.want)
		}
	}
}

// TestRetiredResourceTakesNoNewRequests: no new request, no approval of one
// made before; the grants it gave run on.
func TestRetiredResourceTakesNoNewRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		granted := j.request(t, "dave", "prod-db", 0, t0) // auto-approved (On-Call)
		pending := j.request(t, "bob", "prod-db", 0, t0)

		r := j.cat.Resources["prod-db"]
		r.Retired = true
		j.cat.Resources["prod-db"] = r
		if r.MayRequest(j.people["bob"]) {
			t.Error("a retired resource may be requested")
		}
		_, err := grants.NewStore(db).CreateRequest(t.Context(), j.cat, j.people["sam"], grants.RequestInput{Resource: "prod-db", Reason: "x"}, t0)
		if !errors.Is(err, grants.ErrConflict) || err.Error() != "prod-db is retired: it takes no new requests" {
			t.Errorf("request for a retired resource: %v", err)
		}
		_, err = grants.NewStore(db).ApproveRequest(t.Context(), j.cat, pending.ID, j.people["carol"], "", t0)
		if !errors.Is(err, grants.ErrConflict) || !strings.Contains(err.Error(), "prod-db was retired since request") {
			t.Errorf("approving a request made before retiring: %v", err)
		}
		if _, err := grants.NewStore(db).DenyRequest(t.Context(), j.cat, pending.ID, j.people["carol"], "retired", t0); err != nil {
			t.Errorf("denying it: %v", err)
		}
		g, err := grants.NewStore(db).GetGrant(t.Context(), granted.Grant.ID)
		if err != nil || g.Status != grants.GrantActive {
			t.Errorf("the grant given before retiring = %+v, %v", g, err)
		}
	})
}

func TestRetiredResourceRefusesDirectGrants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		cat, err := grants.ParseCatalog("c", []byte(`{"admins": ["Admins"], "resources": {"prod-db": {"group": "group:jit-prod-db", "retired": true}}}`))
		if err != nil {
			t.Fatal(err)
		}
		admin := &grants.Person{Email: "alice@example.com", Status: grants.StatusActive, Groups: []string{"Admins"}}
		_, err = grants.NewStore(db).DirectGrant(t.Context(), cat, admin, grants.DirectGrantInput{Resource: "prod-db", User: "bob@example.com", Duration: time.Hour, Reason: "drill"}, time.Now())
		if !errors.Is(err, grants.ErrConflict) || !strings.Contains(err.Error(), "retired") {
			t.Fatalf("direct grant on a retired resource: %v", err)
		}
	})
}
