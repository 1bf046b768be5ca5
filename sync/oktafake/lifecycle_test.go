package oktafake

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// oktaErr extracts the SDK's decoding of Okta's error body.
func oktaErr(t *testing.T, err error) *okta.Error {
	t.Helper()
	var e *okta.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an Okta API error", err)
	}
	return e
}

func TestLifecycleOperationsFollowOktasRulesThroughTheSDK(t *testing.T) {
	clock := newTestClock(t0)
	s, url := startFake(t, Options{Clock: clock.Now})
	c := sdkClient(t, url, testToken)
	ctx := context.Background()
	id := s.AddUser(User{Login: "erin@example.com"})
	status := func() string { u, _ := s.User(id); return u.Status }

	type call struct {
		name string
		do   func() (*okta.Response, error)
		want string // status after, or "" when refused
		code string // errorCode when refused
		http int
	}
	exp := func() (*okta.Response, error) { _, r, err := c.User.ExpirePassword(ctx, id); return r, err }
	reset := func() (*okta.Response, error) {
		_, r, err := c.User.ResetPassword(ctx, id, query.NewQueryParams(query.WithSendEmail(false)))
		return r, err
	}
	activate := func() (*okta.Response, error) {
		_, r, err := c.User.ActivateUser(ctx, id, query.NewQueryParams(query.WithSendEmail(false)))
		return r, err
	}
	reactivate := func() (*okta.Response, error) {
		_, r, err := c.User.ReactivateUser(ctx, id, query.NewQueryParams(query.WithSendEmail(false)))
		return r, err
	}
	steps := []call{
		{"activate an active user", activate, "", "E0000016", 403},
		{"unsuspend an active user", func() (*okta.Response, error) { return c.User.UnsuspendUser(ctx, id) }, "", "E0000001", 400},
		{"unlock an active user", func() (*okta.Response, error) { return c.User.UnlockUser(ctx, id) }, StatusActive, "", 0},
		{"expire the password", exp, StatusPasswordExpired, "", 0},
		{"suspend with an expired password", func() (*okta.Response, error) { return c.User.SuspendUser(ctx, id) }, "", "E0000001", 400},
		{"reset the password", reset, StatusRecovery, "", 0},
		{"expire a password being reset", exp, "", "E0000038", 403},
		{"reactivate in recovery", reactivate, StatusProvisioned, "", 0},
		{"unlock a provisioned user", func() (*okta.Response, error) { return c.User.UnlockUser(ctx, id) }, "", "E0000038", 403},
		{"deactivate", func() (*okta.Response, error) { return c.User.DeactivateUser(ctx, id, nil) }, StatusDeprovisioned, "", 0},
		{"reactivate a deactivated user", reactivate, "", "E0000038", 403},
		{"activate a deactivated user", activate, StatusActive, "", 0}, // she has a password
	}
	for _, st := range steps {
		clock.Advance(time.Second)
		before, _ := s.User(id)
		_, err := st.do()
		after, _ := s.User(id)
		if st.want == "" {
			if err == nil {
				t.Fatalf("%s: accepted in %s; Okta refuses", st.name, before.Status)
			}
			if e := oktaErr(t, err); e.ErrorCode != st.code || e.ErrorId == "" {
				t.Errorf("%s: error %+v, want %s", st.name, e, st.code)
			}
			if after.Status != before.Status || !after.LastUpdated.Equal(before.LastUpdated) {
				t.Errorf("%s: a refused operation changed the user", st.name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if after.Status != st.want {
			t.Fatalf("%s: status %s, want %s", st.name, after.Status, st.want)
		}
		if !after.LastUpdated.Equal(clock.Now()) {
			t.Errorf("%s: lastUpdated %v, want %v", st.name, after.LastUpdated, clock.Now())
		}
		if changed := after.Status != before.Status; changed != after.StatusChanged.Equal(clock.Now()) {
			t.Errorf("%s: statusChanged %v (status %s -> %s)", st.name, after.StatusChanged, before.Status, after.Status)
		}
	}
	if status() != StatusActive {
		t.Fatalf("ended %s", status())
	}
	// A user staged without a password waits in PROVISIONED until they
	// finish the activation email.
	newID := s.AddUser(User{Login: "new@example.com", Status: StatusStaged})
	body, _, err := c.User.ActivateUser(ctx, newID, query.NewQueryParams(query.WithSendEmail(false)))
	if err != nil || body == nil || body.ActivationToken == "" {
		t.Fatalf("activating a staged user: %v %+v", err, body)
	}
	if u, _ := s.User(newID); u.Status != StatusProvisioned || !u.Activated.IsZero() {
		t.Fatalf("staged user after activate: %s, activated %v", u.Status, u.Activated)
	}
	if err := s.Lifecycle(newID, OpSetPassword); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.User(newID); u.Status != StatusActive || u.Activated.IsZero() || u.PasswordChanged.IsZero() {
		t.Errorf("after finishing activation: %+v", u)
	}
	var lerr *Error
	if err := s.Lifecycle(newID, OpSetPassword); !errors.As(err, &lerr) {
		t.Errorf("finishing a flow an active user is not in: %v", err)
	}
}

func TestLockedOutAndOtherStatusesListAsOktaAnswers(t *testing.T) {
	s, url := startFake(t, Options{})
	c := sdkClient(t, url, testToken)
	ids := map[string]string{}
	for _, st := range validStatuses {
		ids[st] = s.AddUser(User{Login: st + "@example.com", Status: st})
	}
	// Without a filter Okta leaves out DEPROVISIONED users only.
	all, _ := listAllUsers(t, c, nil)
	if len(all) != len(validStatuses)-1 || slices.Contains(userIDs(all), ids[StatusDeprovisioned]) {
		t.Errorf("unfiltered list %v", userIDs(all))
	}
	for _, st := range validStatuses {
		got, _ := listAllUsers(t, c, query.NewQueryParams(query.WithFilter(`status eq "`+st+`"`)))
		if !slices.Equal(userIDs(got), []string{ids[st]}) || got[0].Status != st {
			t.Errorf("status eq %s: %v", st, userIDs(got))
		}
	}
	got, _ := listAllUsers(t, c, query.NewQueryParams(query.WithFilter(`status eq "LOCKED_OUT" or status eq "RECOVERY"`)))
	if !slices.Equal(userIDs(got), []string{ids[StatusRecovery], ids[StatusLockedOut]}) {
		t.Errorf("LOCKED_OUT or RECOVERY: %v", userIDs(got))
	}
	_, _, err := c.User.ListUsers(context.Background(), query.NewQueryParams(query.WithFilter(`status sw "LOCK"`)))
	if err == nil || oktaErr(t, err).ErrorCode != "E0000031" {
		t.Errorf("filter with sw on status: %v; Okta's filter takes only eq there", err)
	}
	// A locked-out user's links offer unlock, a suspended user's unsuspend.
	u, _, err := c.User.GetUser(context.Background(), ids[StatusLockedOut])
	if err != nil {
		t.Fatal(err)
	}
	links, _ := u.Links.(map[string]any)
	if _, ok := links["unlock"]; !ok {
		t.Errorf("locked-out user's _links lack unlock: %v", links)
	}
}

func TestDeleteNeedsADeactivatedUser(t *testing.T) {
	s, url := startFake(t, Options{})
	c := sdkClient(t, url, testToken)
	id := s.AddUser(User{Login: "gone@example.com"})
	ctx := context.Background()
	resp, err := c.User.DeactivateOrDeleteUser(ctx, id, nil)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("first DELETE: %v", err)
	}
	if u, ok := s.User(id); !ok || u.Status != StatusDeprovisioned {
		t.Fatalf("first DELETE of an active user must only deactivate: %+v", u)
	}
	if _, err := c.User.DeactivateOrDeleteUser(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.User.GetUser(ctx, id); err == nil || oktaErr(t, err).ErrorCode != "E0000007" {
		t.Errorf("deleted user still readable: %v", err)
	}
	var types []string
	for _, e := range s.LogEvents() {
		types = append(types, e.EventType)
	}
	want := []string{"user.lifecycle.create", "user.lifecycle.activate", "user.lifecycle.deactivate", "user.lifecycle.delete.initiated"}
	if !slices.Equal(types, want) {
		t.Errorf("System Log %v, want %v", types, want)
	}
}
