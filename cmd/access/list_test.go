package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// apiList reads a list route directly, as email, to show what the API
// gives the CLI before it filters.
func (p *testPortal) apiList(email, path string) []map[string]any {
	p.t.Helper()
	req, _ := http.NewRequest("GET", p.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.tokens[email])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var out []map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		p.t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	}
	return out
}

func TestList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)
		// alice: a staging grant in the tailnet, a pending prod-db request,
		// a denied one before it. bob: a pending staging request of his own.
		// root: an admin with nothing of their own.
		ok(t, p.as(alice), "request", "staging", "--for", "2h", "--wait")
		r := ok(t, p.as(alice), "request", "prod-db", "--for", "1h", "--reason", "first try")
		ok(t, p.as(carol), "deny", idIn(t, `^request (\d+) `, r.stdout))
		r = ok(t, p.as(alice), "request", "prod-db", "--for", "3h", "--reason", "the  migration\nof the night")
		pending := idIn(t, `^request (\d+) `, r.stdout)
		ok(t, p.as(bob), "request", "staging", "--reason", "bob's own")

		r = ok(t, p.as(alice), "ls")
		want := []string{
			`^REQUESTS$`,
			`^ID +RESOURCE +FOR +STATUS +CREATED +REASON$`,
			`^` + pending + ` +prod-db +3h +pending +\d{4}-\d\d-\d\d \d\d:\d\d UTC +the migration of the night$`,
			`^\d+ +prod-db +1h +denied +\d{4}-\d\d-\d\d \d\d:\d\d UTC +first try$`,
			`^\d+ +staging +2h +approved +\d{4}-\d\d-\d\d \d\d:\d\d UTC +-$`,
			`^$`,
			`^GRANTS$`,
			`^ID +RESOURCE +GROUP +STATUS +IN TAILNET +EXPIRES +LEFT$`,
			`^\d+ +staging +group:jit-staging +active +yes +\d{4}-\d\d-\d\d \d\d:\d\d UTC +(1h59m|2h)$`,
		}
		lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
		if len(lines) != len(want) {
			t.Fatalf("ls printed %d lines, want %d:\n%s", len(lines), len(want), r.stdout)
		}
		for i, w := range want {
			if !regexp.MustCompile(w).MatchString(lines[i]) {
				t.Errorf("ls line %d = %q, want %s", i, lines[i], w)
			}
		}

		// --json: exactly {"requests": [Request], "grants": [Grant]}, only mine.
		var list struct {
			Requests []apiRequest `json:"requests"`
			Grants   []apiGrant   `json:"grants"`
		}
		r = okJSON(t, p.as(alice), &list, "ls")
		if keys := strings.Join(jsonKeys(t, []byte(r.stdout)), ","); keys != "grants,requests" {
			t.Errorf("ls --json keys = %s", keys)
		}
		if len(list.Requests) != 3 || len(list.Grants) != 1 || list.Grants[0].Resource != "staging" || list.Grants[0].AppliedAt == nil {
			t.Errorf("alice's ls --json = %+v", list)
		}
		for _, req := range list.Requests {
			if req.Requester != alice {
				t.Errorf("alice's ls lists %s's request %d", req.Requester, req.ID)
			}
		}

		// bob approves both resources, so the API lists alice's requests to
		// him too; ls keeps only his own.
		if n := len(p.apiList(bob, "/api/v1/requests")); n != 4 {
			t.Fatalf("the API lists %d requests to bob, want his own and alice's three", n)
		}
		okJSON(t, p.as(bob), &list, "ls")
		if len(list.Requests) != 1 || list.Requests[0].Requester != bob || len(list.Grants) != 0 {
			t.Errorf("bob's ls --json = %+v", list)
		}
		// root, an admin, sees everything through the API and nothing in ls.
		if n := len(p.apiList(root, "/api/v1/grants")); n != 1 {
			t.Fatalf("the API lists %d grants to an admin, want alice's", n)
		}
		r = okJSON(t, p.as(root), &list, "ls")
		if strings.Join(strings.Fields(r.stdout), "") != `{"requests":[],"grants":[]}` {
			t.Errorf("root's ls --json = %s", r.stdout)
		}
		r = ok(t, p.as(root), "ls")
		if r.stdout != "" || r.stderr != "no requests and no grants\n" {
			t.Errorf("root's ls = %s", r)
		}

		// --active: pending requests and active grants only.
		okJSON(t, p.as(alice), &list, "ls", "--active")
		if len(list.Requests) != 1 || itoa(list.Requests[0].ID) != pending || len(list.Grants) != 1 {
			t.Errorf("ls --active --json = %+v", list)
		}
		r = ok(t, p.as(alice), "ls", "--active")
		if strings.Contains(r.stdout, "denied") || !strings.Contains(r.stdout, "pending") || !strings.Contains(r.stdout, "group:jit-staging") {
			t.Errorf("ls --active = %s", r)
		}
	})
}
