package web_test

import (
	"strings"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

func TestResourcesList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newJIT(t, db)
		code, body := e.call(t, "erin", "GET", "/api/v1/resources", "")
		want := `[{"name":"prod-db","description":"Production Aurora Postgres","group":"group:jit-prod-db","maxDuration":"4h","defaultDuration":"1h","requireReason":true,"eligible":["Engineering"],"canRequest":false},` +
			`{"name":"staging","description":"","group":"group:jit-staging","maxDuration":"8h","defaultDuration":"1h","requireReason":false,"eligible":[],"canRequest":true}]`
		if code != 200 || strings.TrimSpace(body) != want {
			t.Errorf("resources as erin = %d\n%s\nwant\n%s", code, body, want)
		}
		_, body = e.call(t, "bob", "GET", "/api/v1/resources", "")
		if !strings.Contains(body, `"eligible":["Engineering"],"canRequest":true`) {
			t.Errorf("resources as bob = %s", body)
		}
		e.refused(t, 401, "sign in", "", "GET", "/api/v1/resources", "")
		e.refused(t, 403, "SUSPENDED", "frank", "GET", "/api/v1/resources", "")
	})
}
