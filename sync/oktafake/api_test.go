package oktafake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func addPeople(s *Server, n int) []string {
	var ids []string
	for i := range n {
		ids = append(ids, s.AddUser(User{
			Login:     fmt.Sprintf("user%02d@example.com", i),
			FirstName: "User",
			LastName:  fmt.Sprintf("%02d", i),
		}))
	}
	return ids
}

func userIDs(us []*okta.User) []string {
	var ids []string
	for _, u := range us {
		ids = append(ids, u.Id)
	}
	return ids
}

// listAllUsers follows the SDK's Next links to the end.
func listAllUsers(t *testing.T, c *okta.Client, qp *query.Params) ([]*okta.User, int) {
	t.Helper()
	ctx := context.Background()
	users, resp, err := c.User.ListUsers(ctx, qp)
	if err != nil {
		t.Fatalf("listing users: %v", err)
	}
	pages := 1
	for resp.HasNextPage() {
		var more []*okta.User
		resp, err = resp.Next(ctx, &more)
		if err != nil {
			t.Fatalf("listing users, page %d: %v", pages+1, err)
		}
		users = append(users, more...)
		pages++
	}
	return users, pages
}

func TestSDKPagesThroughUsersWithLinkHeaders(t *testing.T) {
	s, url := startFake(t, Options{})
	want := addPeople(s, 7)
	c := sdkClient(t, url, testToken)

	got, pages := listAllUsers(t, c, query.NewQueryParams(query.WithLimit(2)))
	if !slices.Equal(userIDs(got), want) {
		t.Errorf("users = %v, want %v in creation order", userIDs(got), want)
	}
	if pages != 4 {
		t.Errorf("took %d pages of 2 for 7 users, want 4", pages)
	}
	if n := s.Calls()["GET /api/v1/users"]; n != 4 {
		t.Errorf("server saw %d list calls, want 4", n)
	}
	if got[0].Profile == nil || (*got[0].Profile)["login"] != "user00@example.com" || got[0].Status != "ACTIVE" {
		t.Errorf("first user decoded as %+v", got[0])
	}
}

func TestPageLimitCapsWhatTheClientAsksFor(t *testing.T) {
	s, url := startFake(t, Options{PageLimit: 3})
	want := addPeople(s, 7)
	c := sdkClient(t, url, testToken)

	got, pages := listAllUsers(t, c, query.NewQueryParams(query.WithLimit(200)))
	if !slices.Equal(userIDs(got), want) || pages != 3 {
		t.Errorf("got %d users in %d pages, want 7 in 3", len(got), pages)
	}
}

func TestLinkHeadersAreAbsoluteAndCarryTheCursor(t *testing.T) {
	s, url := startFake(t, Options{})
	ids := addPeople(s, 3)

	req, _ := http.NewRequest("GET", url+"/api/v1/users?limit=2", nil)
	req.Header.Set("Authorization", "SSWS "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	links := resp.Header.Values("Link")
	wantSelf := fmt.Sprintf(`<%s/api/v1/users?limit=2>; rel="self"`, url)
	wantNext := fmt.Sprintf(`<%s/api/v1/users?after=%s&limit=2>; rel="next"`, url, ids[1])
	if !slices.Equal(links, []string{wantSelf, wantNext}) {
		t.Errorf("Link = %q, want %q", links, []string{wantSelf, wantNext})
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestPagingSurvivesDeletingTheCursorUser(t *testing.T) {
	s, url := startFake(t, Options{})
	ids := addPeople(s, 4)
	c := sdkClient(t, url, testToken)
	ctx := context.Background()

	first, resp, err := c.User.ListUsers(ctx, query.NewQueryParams(query.WithLimit(2)))
	if err != nil || len(first) != 2 {
		t.Fatalf("first page: %d users, %v", len(first), err)
	}
	if err := s.DeleteUser(ids[1]); err != nil {
		t.Fatal(err)
	}
	var rest []*okta.User
	if _, err := resp.Next(ctx, &rest); err != nil {
		t.Fatalf("next page after deleting the cursor's user: %v", err)
	}
	if !slices.Equal(userIDs(rest), ids[2:]) {
		t.Errorf("second page = %v, want %v", userIDs(rest), ids[2:])
	}
}

func TestDeprovisionedUsersAreHiddenUnlessAskedFor(t *testing.T) {
	s, url := startFake(t, Options{})
	ids := addPeople(s, 3)
	if err := s.SetUserStatus(ids[1], StatusDeprovisioned); err != nil {
		t.Fatal(err)
	}
	staged := s.AddUser(User{Login: "new@example.com", Status: StatusStaged})
	c := sdkClient(t, url, testToken)

	all, _ := listAllUsers(t, c, nil)
	if want := []string{ids[0], ids[2], staged}; !slices.Equal(userIDs(all), want) {
		t.Errorf("default list = %v, want everyone but the deprovisioned user %v", userIDs(all), want)
	}
	gone, _ := listAllUsers(t, c, query.NewQueryParams(query.WithFilter(`status eq "DEPROVISIONED"`)))
	if !slices.Equal(userIDs(gone), []string{ids[1]}) || gone[0].Status != "DEPROVISIONED" {
		t.Errorf("filter status eq DEPROVISIONED = %v", userIDs(gone))
	}
	searched, _ := listAllUsers(t, c, query.NewQueryParams(query.WithSearch(`status eq "DEPROVISIONED" or status eq "STAGED"`)))
	if !slices.Equal(userIDs(searched), []string{ids[1], staged}) {
		t.Errorf("search = %v", userIDs(searched))
	}
	u, _, err := c.User.GetUser(context.Background(), ids[1])
	if err != nil || u.Status != "DEPROVISIONED" {
		t.Errorf("GetUser of a deprovisioned user = %v, %v", u, err)
	}
}

func TestLastUpdatedFollowsTheClockAndFilters(t *testing.T) {
	clock := newTestClock(t0)
	s, url := startFake(t, Options{Clock: clock.Now})
	ids := addPeople(s, 3)
	clock.Advance(time.Minute)
	cut := clock.Now()
	clock.Advance(1500 * time.Microsecond) // sub-millisecond parts are not reported
	if err := s.SetUserStatus(ids[0], StatusSuspended); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserStatus(ids[2], StatusDeprovisioned); err != nil {
		t.Fatal(err)
	}
	c := sdkClient(t, url, testToken)

	since := cut.Format(oktaTimeFormat)
	for _, param := range []query.ParamOptions{
		query.WithFilter(`lastUpdated gt "` + since + `"`),
		query.WithSearch(`lastUpdated gt "` + since + `"`),
	} {
		changed, _ := listAllUsers(t, c, query.NewQueryParams(param))
		if !slices.Equal(userIDs(changed), []string{ids[0], ids[2]}) {
			t.Errorf("changed since %s = %v, want %v (deprovisioned included)", since, userIDs(changed), []string{ids[0], ids[2]})
		}
	}
	u, _, err := c.User.GetUser(context.Background(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	wantTime := cut.Add(time.Millisecond)
	if !u.LastUpdated.Equal(wantTime) || !u.StatusChanged.Equal(wantTime) || !u.Created.Equal(t0) {
		t.Errorf("lastUpdated %v statusChanged %v created %v, want %v, %v, %v", u.LastUpdated, u.StatusChanged, u.Created, wantTime, wantTime, t0)
	}
	if u.LastLogin != nil {
		t.Errorf("lastLogin = %v for a user who never signed in, want null", u.LastLogin)
	}
	// Reading the timestamp back and filtering on it does not return the user again.
	again, _ := listAllUsers(t, c, query.NewQueryParams(query.WithFilter(`lastUpdated gt "`+u.LastUpdated.Format(oktaTimeFormat)+`"`)))
	if len(again) != 0 {
		t.Errorf("filter on the newest lastUpdated returned %v", userIDs(again))
	}
}

func TestUserJSONHasOktasShape(t *testing.T) {
	clock := newTestClock(t0)
	s, url := startFake(t, Options{Clock: clock.Now})
	id := s.AddUser(User{Login: "ada@example.com", Email: "ada@example.org", FirstName: "Ada", LastName: "Lovelace"})
	req, _ := http.NewRequest("GET", url+"/api/v1/users/ada@example.com", nil)
	req.Header.Set("Authorization", "SSWS "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body["id"] != id || body["status"] != "ACTIVE" || body["created"] != "2026-11-21T10:00:00.000Z" || body["lastLogin"] != nil {
		t.Errorf("user = %v", body)
	}
	if _, ok := body["lastLogin"]; !ok {
		t.Error("lastLogin missing; Okta sends it as null")
	}
	profile, _ := body["profile"].(map[string]any)
	if profile["login"] != "ada@example.com" || profile["email"] != "ada@example.org" || profile["firstName"] != "Ada" {
		t.Errorf("profile = %v", profile)
	}
	links, _ := body["_links"].(map[string]any)
	self, _ := links["self"].(map[string]any)
	if self["href"] != url+"/api/v1/users/"+id {
		t.Errorf("_links.self = %v", links["self"])
	}
	if typ, _ := body["type"].(map[string]any); !strings.HasPrefix(fmt.Sprint(typ["id"]), "oty") {
		t.Errorf("type = %v", body["type"])
	}
	if !strings.HasPrefix(id, "00u") || len(id) != 20 {
		t.Errorf("id %q does not look like an Okta user id", id)
	}
}

func TestGroupsFilterOnLastMembershipUpdated(t *testing.T) {
	clock := newTestClock(t0)
	s, url := startFake(t, Options{Clock: clock.Now})
	eng := s.AddGroup("Engineering", "Builders")
	sre := s.AddGroup("SRE", "On call")
	sec := s.AddGroup("Security", "")
	alice := s.AddUser(User{Login: "alice@example.com"})
	clock.Advance(time.Hour)
	cut := clock.Now().Format(oktaTimeFormat)
	clock.Advance(time.Second)
	if err := s.AddMember(sre, alice); err != nil {
		t.Fatal(err)
	}
	if err := s.RenameGroup(sec, "Security Team"); err != nil {
		t.Fatal(err)
	}
	c := sdkClient(t, url, testToken)
	ctx := context.Background()

	changed, _, err := c.Group.ListGroups(ctx, query.NewQueryParams(query.WithFilter(`lastMembershipUpdated gt "`+cut+`"`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].Id != sre {
		t.Errorf("groups with membership changes = %v, want only SRE", groupNames(changed))
	} else if !changed[0].LastMembershipUpdated.Equal(clock.Now()) || !changed[0].LastUpdated.Equal(t0) {
		t.Errorf("SRE lastMembershipUpdated %v lastUpdated %v", changed[0].LastMembershipUpdated, changed[0].LastUpdated)
	}
	renamed, _, err := c.Group.ListGroups(ctx, query.NewQueryParams(query.WithFilter(`type eq "OKTA_GROUP" and lastUpdated gt "`+cut+`"`)))
	if err != nil || len(renamed) != 1 || renamed[0].Profile.Name != "Security Team" {
		t.Errorf("renamed groups = %v, %v", groupNames(renamed), err)
	}
	byPrefix, _, err := c.Group.ListGroups(ctx, query.NewQueryParams(query.WithQ("s")))
	if err != nil || !slices.Equal(groupNames(byPrefix), []string{"SRE", "Security Team"}) {
		t.Errorf("q=s = %v, %v", groupNames(byPrefix), err)
	}
	byName, _, err := c.Group.ListGroups(ctx, query.NewQueryParams(query.WithSearch(`profile.name eq "engineering"`)))
	if err != nil || len(byName) != 1 || byName[0].Id != eng || byName[0].Type != "OKTA_GROUP" || byName[0].Profile.Description != "Builders" {
		t.Errorf("search by name = %v, %v", groupNames(byName), err)
	}
	// filter does not support profile.name at Okta; neither does the fake.
	_, resp, err := c.Group.ListGroups(ctx, query.NewQueryParams(query.WithFilter(`profile.name eq "SRE"`)))
	var oerr *okta.Error
	if !errors.As(err, &oerr) || resp.StatusCode != 400 || oerr.ErrorCode != "E0000031" {
		t.Errorf("filter on profile.name: err %v, want a 400 E0000031", err)
	}
}

func groupNames(gs []*okta.Group) []string {
	var names []string
	for _, g := range gs {
		names = append(names, g.Profile.Name)
	}
	return names
}

func TestGroupMembersPageAndIncludeEveryStatus(t *testing.T) {
	s, url := startFake(t, Options{PageLimit: 2})
	g := s.AddGroup("Engineering", "")
	ids := addPeople(s, 5)
	for _, id := range ids {
		if err := s.AddMember(g, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetUserStatus(ids[3], StatusSuspended); err != nil {
		t.Fatal(err)
	}
	c := sdkClient(t, url, testToken)
	ctx := context.Background()

	members, resp, err := c.Group.ListGroupUsers(ctx, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	for resp.HasNextPage() {
		var more []*okta.User
		if resp, err = resp.Next(ctx, &more); err != nil {
			t.Fatal(err)
		}
		members = append(members, more...)
	}
	if !slices.Equal(userIDs(members), ids) {
		t.Errorf("members = %v, want %v", userIDs(members), ids)
	}
	if members[3].Status != "SUSPENDED" {
		t.Errorf("suspended member listed as %s", members[3].Status)
	}
	groups, _, err := c.User.ListUserGroups(ctx, ids[0])
	if err != nil || len(groups) != 1 || groups[0].Id != g {
		t.Errorf("user's groups = %v, %v", groupNames(groups), err)
	}
	got, _, err := c.Group.GetGroup(ctx, g)
	if err != nil || got.Profile.Name != "Engineering" || !slices.Equal(got.ObjectClass, []string{"okta:user_group"}) {
		t.Errorf("GetGroup = %+v, %v", got, err)
	}
}

func TestMembershipAndLifecycleThroughTheAPI(t *testing.T) {
	s, url := startFake(t, Options{})
	g := s.AddGroup("SRE", "")
	id := s.AddUser(User{Login: "bob@example.com"})
	c := sdkClient(t, url, testToken)
	ctx := context.Background()

	if _, err := c.Group.AddUserToGroup(ctx, g, id); err != nil {
		t.Fatal(err)
	}
	if grp, _ := s.Group(g); !slices.Equal(grp.Members, []string{id}) {
		t.Errorf("members after PUT = %v", grp.Members)
	}
	if _, err := c.User.SuspendUser(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.User.SuspendUser(ctx, id); err == nil {
		t.Error("suspending a suspended user succeeded; Okta refuses")
	}
	if _, err := c.User.UnsuspendUser(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.User.DeactivateOrDeleteUser(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.User(id); u.Status != StatusDeprovisioned || !slices.Equal(u.Groups, []string{g}) {
		t.Errorf("after the first DELETE: %s in %v, want DEPROVISIONED and still a member", u.Status, u.Groups)
	}
	if _, err := c.User.DeactivateOrDeleteUser(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.User(id); ok {
		t.Error("user still exists after the second DELETE")
	}
	if grp, _ := s.Group(g); len(grp.Members) != 0 {
		t.Errorf("deleted user still a member: %v", grp.Members)
	}
}

func TestErrorsAreOktasAndTheSDKReadsThem(t *testing.T) {
	s, url := startFake(t, Options{})
	id := s.AddUser(User{Login: "carol@example.com"})
	ctx := context.Background()

	_, resp, err := sdkClient(t, url, "wrong-token").User.ListUsers(ctx, nil)
	var oerr *okta.Error
	if !errors.As(err, &oerr) {
		t.Fatalf("bad token: err = %v, want *okta.Error", err)
	}
	if resp.StatusCode != 401 || oerr.ErrorCode != "E0000011" || oerr.ErrorSummary != "Invalid token provided" || oerr.ErrorLink != "E0000011" || !strings.HasPrefix(oerr.ErrorId, "oae") {
		t.Errorf("bad token: %d %+v", resp.StatusCode, oerr)
	}

	c := sdkClient(t, url, testToken)
	_, resp, err = c.User.GetUser(ctx, "00unknown")
	if !errors.As(err, &oerr) || resp.StatusCode != 404 || oerr.ErrorCode != "E0000007" || oerr.ErrorSummary != "Not found: Resource not found: 00unknown (User)" {
		t.Errorf("unknown user: %v %+v", err, oerr)
	}
	_, _, err = c.Group.GetGroup(ctx, "00gnope")
	if !errors.As(err, &oerr) || oerr.ErrorSummary != "Not found: Resource not found: 00gnope (UserGroup)" {
		t.Errorf("unknown group: %v", err)
	}
	if err := s.DeleteUser(id); err != nil {
		t.Fatal(err)
	}
	_, resp, err = c.User.GetUser(ctx, id)
	if err == nil || resp.StatusCode != 404 {
		t.Errorf("deleted user: %v", err)
	}
}

func TestFailNextInjectsOktaErrors(t *testing.T) {
	s, url := startFake(t, Options{})
	addPeople(s, 2)
	c := sdkClient(t, url, testToken)
	ctx := context.Background()

	s.FailNext(2, 500)
	for i := range 2 {
		_, resp, err := c.User.ListUsers(ctx, nil)
		var oerr *okta.Error
		if !errors.As(err, &oerr) || resp.StatusCode != 500 || oerr.ErrorCode != "E0000009" {
			t.Errorf("call %d: %v", i, err)
		}
	}
	users, _, err := c.User.ListUsers(ctx, nil)
	if err != nil || len(users) != 2 {
		t.Errorf("after the faults: %d users, %v", len(users), err)
	}
	if n := s.Calls()["GET /api/v1/users"]; n != 3 {
		t.Errorf("calls = %d, want 3", n)
	}
	s.ResetCalls()
	if len(s.Calls()) != 0 {
		t.Errorf("calls after reset = %v", s.Calls())
	}
}

func TestRateLimitNextAnswers429WithOktasHeaders(t *testing.T) {
	clock := newTestClock(time.Now().Truncate(time.Second))
	s, url := startFake(t, Options{Clock: clock.Now})
	addPeople(s, 1)

	get := func() *http.Response {
		req, _ := http.NewRequest("GET", url+"/api/v1/users", nil)
		req.Header.Set("Authorization", "SSWS "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ok := get()
	if ok.Header.Get("X-Rate-Limit-Limit") != "600" || ok.Header.Get("X-Rate-Limit-Remaining") != "599" {
		t.Errorf("normal answer: limit %q remaining %q", ok.Header.Get("X-Rate-Limit-Limit"), ok.Header.Get("X-Rate-Limit-Remaining"))
	}
	wantReset := clock.Now().Truncate(time.Minute).Add(time.Minute).Unix()
	if ok.Header.Get("X-Rate-Limit-Reset") != strconv.FormatInt(wantReset, 10) {
		t.Errorf("reset %q, want the end of the minute %d", ok.Header.Get("X-Rate-Limit-Reset"), wantReset)
	}

	s.RateLimitNext(1)
	limited := get()
	if limited.StatusCode != 429 || limited.Header.Get("X-Rate-Limit-Remaining") != "0" ||
		limited.Header.Get("X-Rate-Limit-Reset") != strconv.FormatInt(clock.Now().Unix()+1, 10) ||
		limited.Header.Get("X-Rate-Limit-Limit") == "" {
		t.Errorf("429: %d %v", limited.StatusCode, limited.Header)
	}
	if d, err := http.ParseTime(limited.Header.Get("Date")); err != nil || !d.Equal(clock.Now()) {
		t.Errorf("Date = %q, want the fake clock's time", limited.Header.Get("Date"))
	}

	// Without retries the SDK reports the 429; with one it waits and succeeds.
	s.RateLimitNext(1)
	if _, _, err := sdkClient(t, url, testToken).User.ListUsers(context.Background(), nil); err == nil {
		t.Error("SDK without retries did not report the 429")
	}
	s.RateLimitNext(1)
	s.ResetCalls()
	c := sdkClient(t, url, testToken, okta.WithRateLimitMaxRetries(1), okta.WithRateLimitMaxBackOff(1))
	users, _, err := c.User.ListUsers(context.Background(), nil)
	if err != nil || len(users) != 1 {
		t.Errorf("SDK with a retry: %d users, %v", len(users), err)
	}
	if n := s.Calls()["GET /api/v1/users"]; n != 2 {
		t.Errorf("calls = %d, want the 429 and the retry", n)
	}
}

func TestRateLimitWindowIsEnforced(t *testing.T) {
	clock := newTestClock(t0)
	s, url := startFake(t, Options{Clock: clock.Now, RateLimitPerMinute: 2})
	addPeople(s, 1)
	c := sdkClient(t, url, testToken)
	ctx := context.Background()
	for i := range 2 {
		if _, _, err := c.User.ListUsers(ctx, nil); err != nil {
			t.Fatalf("call %d within the limit: %v", i, err)
		}
	}
	// The SDK (no retries) gives up on the 429 with its own error.
	if _, _, err := c.User.ListUsers(ctx, nil); err == nil || !strings.Contains(err.Error(), "too many requests") {
		t.Errorf("third call in the minute: %v", err)
	}
	clock.Advance(time.Minute)
	if _, _, err := c.User.ListUsers(ctx, nil); err != nil {
		t.Errorf("first call of the next minute: %v", err)
	}
}

func TestStateMethodsRefuseUnknownIDs(t *testing.T) {
	s, _ := startFake(t, Options{})
	g := s.AddGroup("G", "")
	for name, err := range map[string]error{
		"SetUserStatus": s.SetUserStatus("nobody", StatusActive),
		"DeleteUser":    s.DeleteUser("nobody"),
		"AddMember":     s.AddMember(g, "nobody"),
		"RemoveMember":  s.RemoveMember("00gnone", "nobody"),
		"RenameGroup":   s.RenameGroup("00gnone", "x"),
		"DeleteGroup":   s.DeleteGroup("00gnone"),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
	if err := s.SetUserStatus(s.AddUser(User{Login: "x@example.com"}), "ON_VACATION"); err == nil {
		t.Error("an unknown status was accepted")
	}
}
