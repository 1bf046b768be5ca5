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
	if err := tn.ValidatePolicy(ctx, []byte(`{"acls": [{"action": "accept", "src": ["group:ghost"], "dst": ["*:*"]}]}`)); err != nil {
		t.Fatalf("validate without the endpoint = %v, want nil", err)
	}
	// The write still refuses a bad policy, with the API's message.
	pol, err := tn.ReadPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = tn.WritePolicy(ctx, []byte(`{"acls": [{"action": "accept", "src": ["group:ghost"], "dst": ["*:*"]}]}`), pol.ETag)
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Message, "group:ghost") {
		t.Fatalf("write of an invalid policy = %v, want a ValidationError naming group:ghost", err)
	}
}
