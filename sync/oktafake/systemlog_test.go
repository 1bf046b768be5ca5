package oktafake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// getLogs calls GET /api/v1/logs with raw query parameters.
func getLogs(t *testing.T, base string, q url.Values) (*http.Response, []map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/logs?"+q.Encode(), nil)
	req.Header.Set("Authorization", "SSWS "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var events []map[string]any
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&events); err != nil {
			t.Fatal(err)
		}
		return resp, events
	}
	var e oktaError
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("%s without Okta's error body: %v", resp.Status, err)
	}
	resp.Header.Set("X-Test-Error-Code", e.ErrorCode)
	return resp, nil
}

// nextLink is the rel="next" URL of a response, or "".
func nextLink(resp *http.Response) string {
	for _, l := range resp.Header.Values("Link") {
		if strings.HasSuffix(l, `rel="next"`) {
			return strings.TrimSuffix(strings.TrimPrefix(strings.Split(l, ";")[0], "<"), ">")
		}
	}
	return ""
}

func logTypes(evs []*okta.LogEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.EventType)
	}
	return out
}

func TestEveryChangeIsInTheSystemLogWithOktasShape(t *testing.T) {
	clock := newTestClock(t0)
	s, base := startFake(t, Options{Clock: clock.Now})
	g := s.AddGroup("SRE", "")
	id := s.AddUser(User{Login: "kim@example.com", FirstName: "Kim", LastName: "Lee"})
	clock.Advance(time.Second)
	if err := s.AddMember(g, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Lifecycle(id, OpLockOut); err != nil {
		t.Fatal(err)
	}
	c := sdkClient(t, base, testToken)
	evs, _, err := c.LogEvent.GetLogs(context.Background(), query.NewQueryParams(query.WithSince("2026-11-21T00:00:00.000Z")))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"group.lifecycle.create", "user.lifecycle.create", "user.lifecycle.activate", "group.user_membership.add", "user.account.lock"}
	if !slices.Equal(logTypes(evs), want) {
		t.Fatalf("log %v, want %v", logTypes(evs), want)
	}
	add := evs[3]
	if add.Uuid == "" || !add.Published.Equal(t0.Add(time.Second)) || add.Outcome.Result != "SUCCESS" ||
		add.DisplayMessage != "Add user to group membership" || add.Actor.Type != "User" ||
		len(add.Target) != 2 || add.Target[0].Id != id || add.Target[1].Id != g || add.Target[1].Type != "UserGroup" {
		t.Errorf("membership event = %+v", add)
	}
	_, raw := getLogs(t, base, url.Values{"since": {"2026-11-21T00:00:00Z"}})
	for _, f := range []string{"uuid", "published", "eventType", "version", "severity", "displayMessage", "actor", "client", "outcome", "target", "transaction", "debugContext", "authenticationContext", "securityContext"} {
		if _, ok := raw[0][f]; !ok {
			t.Errorf("LogEvent lacks %q", f)
		}
	}
	_, again := getLogs(t, base, url.Values{"since": {"2026-11-21T00:00:00Z"}})
	if raw[0]["transaction"].(map[string]any)["id"] != again[0]["transaction"].(map[string]any)["id"] {
		t.Error("an event reads differently each time")
	}
}

func TestPollingRequestsAlwaysHaveANextLinkAndFollowTheCursor(t *testing.T) {
	clock := newTestClock(t0)
	s, base := startFake(t, Options{Clock: clock.Now})
	for _, login := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		s.AddUser(User{Login: login})
		clock.Advance(time.Second)
	}
	filter := `eventType eq "user.lifecycle.create" or eventType eq "user.lifecycle.deactivate"`
	q := url.Values{"since": {"2026-11-21T09:00:00.000Z"}, "filter": {filter}, "limit": {"2"}}
	resp, page := getLogs(t, base, q)
	if resp.StatusCode != http.StatusOK || len(page) != 2 {
		t.Fatalf("first page: %s, %d events", resp.Status, len(page))
	}
	next := nextLink(resp)
	u, _ := url.Parse(next)
	if !strings.HasPrefix(next, base+"/api/v1/logs?") || u.Query().Get("after") == "" || u.Query().Get("since") == "" {
		t.Fatalf("next link %q: want Okta's absolute link with after (and since, as Okta's own links carry)", next)
	}
	resp, page = getLogs(t, base, u.Query())
	if len(page) != 1 || page[0]["target"].([]any)[0].(map[string]any)["alternateId"] != "c@example.com" {
		t.Fatalf("second page %v", page)
	}
	// Nothing new: an empty page, and still a next link (polling semantics).
	u, _ = url.Parse(nextLink(resp))
	resp, page = getLogs(t, base, u.Query())
	if len(page) != 0 || nextLink(resp) == "" {
		t.Fatalf("idle poll: %d events, next %q", len(page), nextLink(resp))
	}
	if err := s.SetUserStatus("a@example.com", StatusDeprovisioned); err != nil {
		t.Fatal(err)
	}
	u, _ = url.Parse(nextLink(resp))
	_, page = getLogs(t, base, u.Query())
	if len(page) != 1 || page[0]["eventType"] != "user.lifecycle.deactivate" {
		t.Errorf("poll after a deactivation: %v", page)
	}
	// An empty first poll hands out a cursor that sees later events too.
	clock.Advance(time.Second)
	empty := url.Values{"since": {clock.Now().Format(time.RFC3339)}, "filter": {filter}}
	resp, page = getLogs(t, base, empty)
	if len(page) != 0 || nextLink(resp) == "" {
		t.Fatalf("empty first poll: %d events, next %q", len(page), nextLink(resp))
	}
	clock.Advance(time.Second)
	s.AddUser(User{Login: "d@example.com"})
	u, _ = url.Parse(nextLink(resp))
	if _, page = getLogs(t, base, u.Query()); len(page) != 1 {
		t.Errorf("poll from an empty page's cursor: %d events, want 1", len(page))
	}
}

func TestBoundedRequestsEndAndSortByPublished(t *testing.T) {
	clock := newTestClock(t0)
	s, base := startFake(t, Options{Clock: clock.Now})
	for _, login := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		s.AddUser(User{Login: login})
		clock.Advance(time.Minute)
	}
	c := sdkClient(t, base, testToken)
	ctx := context.Background()
	qp := query.NewQueryParams(query.WithSince("2026-11-21T10:00:00.000Z"), query.WithUntil("2026-11-21T10:01:30.000Z"),
		query.WithFilter(`eventType eq "user.lifecycle.create"`), query.WithLimit(1))
	evs, resp, err := c.LogEvent.GetLogs(ctx, qp)
	if err != nil {
		t.Fatal(err)
	}
	pages := 1
	for resp.HasNextPage() {
		var more []*okta.LogEvent
		if resp, err = resp.Next(ctx, &more); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, more...)
		pages++
		if pages > 5 {
			t.Fatal("a bounded request never ends")
		}
	}
	if len(evs) != 2 || evs[0].Target[0].AlternateId != "a@example.com" || evs[1].Target[0].AlternateId != "b@example.com" {
		t.Errorf("bounded read %v", logTypes(evs))
	}
	desc, _, err := c.LogEvent.GetLogs(ctx, query.NewQueryParams(query.WithSince("2026-11-21T10:00:00.000Z"),
		query.WithFilter(`eventType eq "user.lifecycle.create"`), query.WithSortOrder("DESCENDING")))
	if err != nil {
		t.Fatal(err)
	}
	if len(desc) != 3 || desc[0].Target[0].AlternateId != "c@example.com" {
		t.Errorf("descending read starts with %v", desc[0].Target[0].AlternateId)
	}
}

func TestSystemLogRefusesWhatOktaRefuses(t *testing.T) {
	clock := newTestClock(t0)
	_, base := startFake(t, Options{Clock: clock.Now})
	for _, c := range []struct {
		q    url.Values
		code string
	}{
		{url.Values{"until": {"yesterday"}}, "E0000001"},
		{url.Values{"limit": {"1001"}}, "E0000001"},
		{url.Values{"sortOrder": {"UP"}}, "E0000001"},
		{url.Values{"since": {"2026-01-01T00:00:00Z"}}, "E0000053"}, // over 180 days ago
		{url.Values{"filter": {`published gt "2026-11-01T00:00:00Z"`}}, "E0000053"},
		{url.Values{"filter": {`eventType eqq "x"`}}, "E0000053"},
		{url.Values{"after": {"not-a-cursor"}}, "E0000001"},
	} {
		resp, _ := getLogs(t, base, c.q)
		if code := resp.Header.Get("X-Test-Error-Code"); resp.StatusCode != http.StatusBadRequest || code != c.code {
			t.Errorf("%v: %s %s, want 400 %s", c.q, resp.Status, code, c.code)
		}
	}
}
