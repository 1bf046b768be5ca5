package tailnet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	tsclient "tailscale.com/client/tailscale/v2"
)

// Device is a tailnet device as the portal needs it.
type Device struct {
	ID   string // the node ID (the legacy ID when there is none)
	Name string
}

// UserDevices lists the tailnet's untagged devices by their owner's login,
// lower-cased, in one call. A tagged device belongs to its tags, not to
// whoever registered it, and is never listed.
func (t *Client) UserDevices(ctx context.Context) (map[string][]Device, error) {
	all, err := t.client.Devices().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing devices: %w", scopeError("devices:core:read", t.busy(err)))
	}
	out := map[string][]Device{}
	for _, d := range all {
		if len(d.Tags) > 0 || d.User == "" {
			continue
		}
		id := d.NodeID
		if id == "" {
			id = d.ID
		}
		login := strings.ToLower(d.User)
		out[login] = append(out[login], Device{ID: id, Name: d.Name})
	}
	return out, nil
}

// SetPosture sets the custom attribute key to true on a device until expiry.
func (t *Client) SetPosture(ctx context.Context, deviceID, key string, expiry time.Time) error {
	return SetPostureAttribute(ctx, t.client, deviceID, key, true, expiry, "access portal grant")
}

// Posture reads a device's posture attributes.
func (t *Client) Posture(ctx context.Context, deviceID string) (map[string]PostureAttribute, error) {
	return PostureAttributes(ctx, t.client, deviceID)
}

// DeletePosture deletes the custom attribute key of a device.
func (t *Client) DeletePosture(ctx context.Context, deviceID, key string) error {
	return DeletePostureAttribute(ctx, t.client, deviceID, key)
}

// IsNotFound reports whether the control API answered 404 (a device that
// is gone, an attribute never set).
func IsNotFound(err error) bool {
	var apiErr tsclient.APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound
}
