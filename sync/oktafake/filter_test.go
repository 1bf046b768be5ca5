package oktafake

import (
	"testing"
	"time"
)

func TestFilterExpressions(t *testing.T) {
	u := &user{
		id: "00u1", login: "Ann@Example.com", email: "ann@example.com", firstName: "Ann", lastName: "Lee",
		status: StatusActive, lastUpdated: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC),
	}
	s := &Server{typeID: "oty1"}
	get := s.userAttrLocked(u)
	cases := []struct {
		expr        string
		search, res bool
	}{
		{`status eq "ACTIVE"`, false, true},
		{`status eq "active"`, false, false}, // filter is exact
		{`status eq "active"`, true, true},   // search is not
		{`lastUpdated gt "2026-01-02T03:04:05.005Z"`, false, true},
		{`lastUpdated gt "2026-01-02T03:04:05.006Z"`, false, false},
		{`lastUpdated ge "2026-01-02T03:04:05.006Z"`, false, true},
		{`lastUpdated lt "2027-01-01T00:00:00.000Z" and status eq "ACTIVE"`, false, true},
		{`status eq "SUSPENDED" or profile.login eq "Ann@Example.com"`, false, true},
		{`(status eq "SUSPENDED" or status eq "STAGED") and id eq "00u1"`, false, false},
		{`status eq "SUSPENDED" or status eq "STAGED" and id eq "00u1"`, false, false},
		{`profile.email sw "ann@"`, true, true},
		{`profile.firstName co "nn"`, true, true},
		{`lastLogin pr`, true, false},
		{`profile.lastName pr`, true, true},
		{`status ne "ACTIVE"`, true, false},
		{`profile.email eq "ann@example.com" OR status eq "X"`, false, true},
	}
	for _, c := range cases {
		e, err := parseExpr(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := e.eval(get, c.search); got != c.res {
			t.Errorf("%s (search %v) = %v, want %v", c.expr, c.search, got, c.res)
		}
	}
}

func TestFilterRefusesWhatOktaRefuses(t *testing.T) {
	for _, c := range []struct {
		expr   string
		search bool
	}{
		{`status eq`, false},
		{`status "ACTIVE"`, false},
		{`status eq "ACTIVE`, false},
		{`(status eq "ACTIVE"`, false},
		{`status eq "ACTIVE" and`, false},
		{`lastUpdated gt "yesterday"`, false},
		{`profile.email sw "a"`, false},    // sw is search-only
		{`profile.nickName eq "a"`, false}, // not filterable
		{`favoriteColor eq "blue"`, true},  // not an attribute at all
	} {
		e, err := parseExpr(c.expr)
		if err == nil {
			allowed := userFilterAttrs
			if c.search {
				allowed = userSearchAttrs
			}
			err = e.check(allowed, c.search)
		}
		if err == nil {
			t.Errorf("%q was accepted", c.expr)
		}
	}
}
