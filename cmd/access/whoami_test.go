package main

import (
	"strings"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

func TestWhoami(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)

		r := ok(t, p.as(root), "whoami")
		for _, want := range []string{"email   root@example.com", "name    User u-root", "admin   yes", "groups  Portal Admins", "portal  " + p.url} {
			if !strings.Contains(r.stdout, want+"\n") {
				t.Errorf("whoami lacks the line %q:\n%s", want, r.stdout)
			}
		}
		if r.stderr != "" {
			t.Errorf("whoami wrote to stderr: %s", r)
		}

		var who struct {
			Email  string   `json:"email"`
			Name   string   `json:"name"`
			Admin  bool     `json:"admin"`
			Groups []string `json:"groups"`
		}
		// --json is accepted before and after the command.
		for _, args := range [][]string{{"--json", "whoami"}, {"whoami", "--json"}, {"whoami", "-json"}} {
			r := ok(t, p.as(alice), args...)
			if err := jsonUnmarshal(r.stdout, &who); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, r)
			}
			if who.Email != alice || who.Admin || strings.Join(who.Groups, ",") != "Engineering" || who.Name != "User u-alice" {
				t.Errorf("%v = %+v", args, who)
			}
			if keys := strings.Join(jsonKeys(t, []byte(r.stdout)), ","); keys != "admin,email,groups,name" {
				t.Errorf("%v printed keys %s, want the API's", args, keys)
			}
		}
	})
}
