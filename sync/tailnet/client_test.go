package tailnet

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/accessportal/portal/sync/tailnetfake"
)

// noValidateTransport answers the validate endpoint with 404, like a control
// server that does not have it.
type noValidateTransport struct{}

func (noValidateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/acl/validate") {
		return &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"message":"not found"}`)), Request: req}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestValidateWithoutTheEndpointLeavesItToTheWrite(t *testing.T) {
	_, url, stop, err := tailnetfake.Start(tailnetfake.Options{Tailnet: "example.com", APIKeys: []string{"k"}, Policy: []byte(`{"groups": {}}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	tn, err := New(Config{APIURL: url, APIKey: "k", HTTPClient: &http.Client{Transport: noValidateTransport{}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := tn.ValidatePolicy(ctx, []byte(`{"acls": [{"action": "accept", "src": ["group:ghost"], "dst": ["*:*"]}]}`)); err != nil {
		t.Fatalf("validate without the endpoint = %v, want nil", err)
	}
	// The write still refuses a bad policy, with the API's message.
	pol, err := tn.ReadPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tn.WritePolicy(ctx, []byte(`{"acls": [{"action": "accept", "src": ["group:ghost"], "dst": ["*:*"]}]}`), pol.ETag)
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Message, "group:ghost") {
		t.Fatalf("write of an invalid policy = %v, want a ValidationError naming group:ghost", err)
	}
}

// TestOAuthClientWithPolicyFileScopeOnly: an OAuth client created with
// policy_file alone (as the README says) reads and writes the policy: the
// token request names no scope, so it gets exactly the client's own; a
// feature needing another scope fails alone, as a missing scope.
func TestOAuthClientWithPolicyFileScopeOnly(t *testing.T) {
	_, url, stop, err := tailnetfake.Start(tailnetfake.Options{
		Tailnet: "example.com", Policy: []byte(`{"groups": {"group:eng": []}}`),
		ScopedClients: []tailnetfake.OAuthClient{{ID: "cid", Secret: "csecret", Scopes: []string{"policy_file"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	tn, err := New(Config{APIURL: url, OAuthClientID: "cid", OAuthClientSecret: "csecret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pol, err := tn.ReadPolicy(ctx)
	if err != nil {
		t.Fatalf("reading the policy with a policy_file client: %v", err)
	}
	if _, err := tn.WritePolicy(ctx, []byte(`{"groups": {"group:eng": ["a@example.com"]}}`), pol.ETag); err != nil {
		t.Fatalf("writing the policy with a policy_file client: %v", err)
	}
	if _, err := tn.DeleteDevicesOf(ctx, "a@example.com"); !IsMissingScope(err) {
		t.Fatalf("deleting devices without devices:core = %v, want a missing scope", err)
	}
}
