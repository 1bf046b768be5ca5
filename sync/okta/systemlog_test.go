package okta

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessportal/portal/sync/oktafake"
	sdk "github.com/okta/okta-sdk-golang/v2/okta"
)

const systemLogTestToken = "00systemLogTestToken"

// systemLogFake serves a fake org; fail, when it returns true for the n-th
// System Log request, makes that request answer Okta's 500.
func systemLogFake(t *testing.T, opts oktafake.Options, fail func(n int64) bool) (*oktafake.Server, string) {
	t.Helper()
	opts.APIToken = systemLogTestToken
	org := oktafake.New(opts)
	var logCalls atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/logs" && fail != nil && fail(logCalls.Add(1)) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"oae1","errorCauses":[]}`))
			return
		}
		org.ServeHTTP(w, r)
	}))
	org.SetIssuer(ts.URL)
	t.Cleanup(func() {
		ts.Close()
		org.Close()
	})
	return org, ts.URL
}

func systemLogSDK(t *testing.T, orgURL string, auth ...sdk.ConfigSetter) *sdk.Client {
	t.Helper()
	setters := []sdk.ConfigSetter{
		sdk.WithOrgUrl(orgURL),
		sdk.WithCache(false),
		sdk.WithTestingDisableHttpsCheck(true),
		sdk.WithRateLimitMaxRetries(0),
	}
	if len(auth) == 0 {
		auth = []sdk.ConfigSetter{sdk.WithToken(systemLogTestToken)}
	}
	_, c, err := sdk.NewClient(context.Background(), append(setters, auth...)...)
	if err != nil {
		t.Fatalf("creating Okta client: %v", err)
	}
	return c
}

func systemLogTypesOf(evs []SystemLogEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.EventType)
	}
	return out
}

func TestSystemLogReadFollowsEveryPageAndResumesFromTheCursor(t *testing.T) {
	start := time.Now().UTC().Add(-time.Minute)
	org, url := systemLogFake(t, oktafake.Options{}, nil)
	eng := org.AddGroup("Engineering", "")
	ann := org.AddUser(oktafake.User{Login: "ann@example.com"})
	bob := org.AddUser(oktafake.User{Login: "bob@example.com"})
	systemLogMust(t, org.AddMember(eng, ann))
	systemLogMust(t, org.AddMember(eng, bob))
	systemLogMust(t, org.Lifecycle(bob, oktafake.OpLockOut))
	systemLogMust(t, org.Lifecycle(ann, oktafake.OpSuspend))

	reader := NewSystemLogReader(systemLogSDK(t, url)).WithPageLimit(2)
	got, err := reader.Read(context.Background(), SystemLogCursor{Since: start})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"user.lifecycle.create", "user.lifecycle.activate", // ann
		"user.lifecycle.create", "user.lifecycle.activate", // bob
		"group.user_membership.add", "group.user_membership.add",
		"user.account.lock", "user.lifecycle.suspend",
	} // group.lifecycle.create is not asked for
	if !slices.Equal(systemLogTypesOf(got.Events), want) {
		t.Fatalf("read %v, want %v", systemLogTypesOf(got.Events), want)
	}
	add := got.Events[4]
	if !slices.Equal(add.UserIDs, []string{ann}) || !slices.Equal(add.GroupIDs, []string{eng}) || add.UUID == "" || add.Published.IsZero() {
		t.Errorf("membership event read as %+v", add)
	}
	if got.Next.After == "" {
		t.Fatalf("no after cursor from a polling read: %+v", got.Next)
	}

	systemLogMust(t, org.RemoveMember(eng, bob))
	systemLogMust(t, org.DeleteUser(ann)) // deactivate, then delete
	again, err := reader.Read(context.Background(), got.Next)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"group.user_membership.remove", "user.lifecycle.deactivate", "user.lifecycle.delete.initiated"}
	if !slices.Equal(systemLogTypesOf(again.Events), want) {
		t.Errorf("second read %v, want only the new %v", systemLogTypesOf(again.Events), want)
	}

	idle, err := reader.Read(context.Background(), again.Next)
	if err != nil {
		t.Fatal(err)
	}
	if len(idle.Events) != 0 || idle.Next.After == "" {
		t.Errorf("an idle read gave %v with cursor %+v", systemLogTypesOf(idle.Events), idle.Next)
	}
}

func TestSystemLogReadFailureKeepsNoPartialCursor(t *testing.T) {
	start := time.Now().UTC().Add(-time.Minute)
	org, url := systemLogFake(t, oktafake.Options{}, func(n int64) bool { return n == 2 })
	for _, login := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		org.AddUser(oktafake.User{Login: login})
	}
	reader := NewSystemLogReader(systemLogSDK(t, url)).WithPageLimit(2)
	got, err := reader.Read(context.Background(), SystemLogCursor{Since: start})
	if err == nil {
		t.Fatalf("a failed second page read as success: %+v", got)
	}
	if !got.Next.IsZero() || len(got.Events) != 0 {
		t.Errorf("a failed read returned %d events and cursor %+v", len(got.Events), got.Next)
	}
	if !strings.Contains(err.Error(), "page 2") {
		t.Errorf("error does not say which page failed: %v", err)
	}
	// The next poll (server healthy again) reads everything from the old cursor.
	retry, err := reader.Read(context.Background(), SystemLogCursor{Since: start})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(retry.Events); n != 6 {
		t.Errorf("retry read %d events, want 6 (create and activate of three people)", n)
	}
}

func TestSystemLogReadWithAServiceAppNeedsTheLogsScope(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	app := oktafake.ServiceApp{
		ClientID: "0oaportal",
		Keys:     []oktafake.PublicKey{{ID: "k1", Key: &key.PublicKey}},
		Scopes:   []string{"okta.users.read", "okta.groups.read", "okta.logs.read"},
	}
	start := time.Now().UTC().Add(-time.Minute)
	org, url := systemLogFake(t, oktafake.Options{ServiceApps: []oktafake.ServiceApp{app}}, nil)
	org.AddUser(oktafake.User{Login: "a@example.com"})
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	client := func(scopes ...string) *SystemLogReader {
		return NewSystemLogReader(systemLogSDK(t, url,
			sdk.WithAuthorizationMode("PrivateKey"), sdk.WithClientId(app.ClientID),
			sdk.WithPrivateKey(pemKey), sdk.WithPrivateKeyId("k1"), sdk.WithScopes(scopes)))
	}

	got, err := client("okta.users.read", "okta.logs.read").Read(context.Background(), SystemLogCursor{Since: start})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 2 {
		t.Errorf("read %v with a service app", systemLogTypesOf(got.Events))
	}
	_, err = client("okta.users.read").Read(context.Background(), SystemLogCursor{Since: start})
	if err == nil || !strings.Contains(err.Error(), "does not contain the required scopes") {
		t.Errorf("a token without okta.logs.read read the log: %v", err)
	}
}

func systemLogMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
