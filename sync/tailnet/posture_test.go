package tailnet

import (
	"context"
	"testing"
	"time"

	"github.com/accessportal/portal/sync/tailnetfake"
)

func TestPostureAttributeLifecycle(t *testing.T) {
	srv, base, clock := startSimulatedTailnet(t, nil, []string{"devices:posture_attributes", "devices:core:read"}, []string{"devices:core"})
	d := srv.AddDevice(tailnetfake.Device{Name: "laptop.example.ts.net", User: "alice@example.com"})
	ctx := context.Background()
	// An OAuth token lives an hour of the fake's clock, which this test
	// moves by hours: the lifecycle uses an OAuth client only until then.
	c := oauthClientFor(t, base, 0)

	until := clock.Now().Add(2 * time.Hour)
	if err := SetPostureAttribute(ctx, c, d.NodeID, "custom:prod", true, until, "grant 1"); err != nil {
		t.Fatalf("SetPostureAttribute: %v", err)
	}
	if err := SetPostureAttribute(ctx, c, d.NodeID, "custom:tier", "gold", time.Time{}, ""); err != nil {
		t.Fatalf("SetPostureAttribute without expiry: %v", err)
	}
	attrs, err := PostureAttributes(ctx, c, d.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	if a := attrs["custom:prod"]; a.Value != true || !a.Expiry.Equal(until) {
		t.Errorf("custom:prod = %+v", a)
	}
	if a := attrs["custom:tier"]; a.Value != "gold" || !a.Expiry.IsZero() {
		t.Errorf("custom:tier = %+v", a)
	}
	if attrs["node:os"].Value != "linux" {
		t.Errorf("reported attributes missing: %v", attrs)
	}

	// An extension moves the expiry.
	later := until.Add(time.Hour)
	if err := SetPostureAttribute(ctx, c, d.NodeID, "custom:prod", true, later, "extended"); err != nil {
		t.Fatal(err)
	}
	c = apiKeyClientFor(t, base)
	clock.Advance(150 * time.Minute)
	attrs, _ = PostureAttributes(ctx, c, d.NodeID)
	if !attrs["custom:prod"].Expiry.Equal(later) {
		t.Errorf("after extension: %+v", attrs["custom:prod"])
	}
	// Past its expiry the attribute is gone, with nobody removing it.
	clock.Advance(time.Hour)
	attrs, _ = PostureAttributes(ctx, c, d.NodeID)
	if _, ok := attrs["custom:prod"]; ok {
		t.Errorf("expired attribute still there: %v", attrs)
	}
	if err := DeletePostureAttribute(ctx, c, d.NodeID, "custom:tier"); err != nil {
		t.Fatal(err)
	}
	if got := srv.PostureAttributes(d.NodeID); len(got) != 0 {
		t.Errorf("after delete: %v", got)
	}
	if err := SetPostureAttribute(ctx, c, d.NodeID, "node:os", "x", time.Time{}, ""); err == nil {
		t.Error("a node: attribute was accepted")
	}

	// A credential without the posture scope gets a typed error.
	err = SetPostureAttribute(ctx, oauthClientFor(t, base, 1), d.NodeID, "custom:prod", true, later, "")
	var missing *MissingScopeError
	if !asMissingScope(err, &missing) || missing.Scope != "devices:posture_attributes" {
		t.Errorf("without scope: %v", err)
	}
	err = SetPostureAttribute(ctx, oauthClientFor(t, base, 1), d.NodeID, "custom:prod", true, time.Time{}, "")
	if !asMissingScope(err, &missing) || missing.Scope != "devices:posture_attributes" {
		t.Errorf("without scope, no expiry: %v", err)
	}
	if _, err := PostureAttributes(ctx, oauthClientFor(t, base, 1), d.NodeID); !IsMissingScope(err) {
		t.Errorf("reading without scope: %v", err)
	}
}

func TestUntaggedDevicesLeaveOutTaggedOnes(t *testing.T) {
	srv, base, _ := startSimulatedTailnet(t, nil)
	laptop := srv.AddDevice(tailnetfake.Device{Name: "alice-laptop.example.ts.net", User: "alice@example.com"})
	srv.AddDevice(tailnetfake.Device{Name: "db.example.ts.net", User: "alice@example.com", Tags: []string{"tag:prod"}})
	srv.AddDevice(tailnetfake.Device{Name: "bob-laptop.example.ts.net", User: "bob@example.com"})
	got, err := UntaggedDevices(context.Background(), apiKeyClientFor(t, base), "Alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].NodeID != laptop.NodeID {
		t.Errorf("devices = %+v, want only the laptop", got)
	}
}
