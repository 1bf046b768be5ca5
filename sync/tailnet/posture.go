package tailnet

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	tsclient "tailscale.com/client/tailscale/v2"
)

// Device posture attributes through the API (scope
// devices:posture_attributes; reading needs its :read form; a credential
// without it gives a *MissingScopeError): "Device
// posture", https://tailscale.com/kb/1288/device-posture, and the API
// reference's POST/GET/DELETE /api/v2/device/{id}/attributes[/{key}].
// Only "custom:" attributes can be written. An attribute with an expiry is
// removed by Tailscale itself when it passes, so access that depends on it
// ends on time even when the portal is down.

// postureScope is the OAuth scope that writes posture attributes.
const postureScope = "devices:posture_attributes"

// PostureAttribute is a posture attribute of a device.
type PostureAttribute struct {
	Value  any
	Expiry time.Time // zero when the attribute does not expire
}

// SetPostureAttribute sets the custom attribute key (e.g. "custom:prod")
// of a device (node ID preferred, numeric ID accepted) to value — a
// string, number or boolean — until expiry (zero: no expiry), with a
// comment for the tailnet's configuration log.
func SetPostureAttribute(ctx context.Context, c *tsclient.Client, deviceID, key string, value any, expiry time.Time, comment string) error {
	if !strings.HasPrefix(key, "custom:") {
		return fmt.Errorf("setting posture attribute %q on device %s: only custom: attributes can be set", key, deviceID)
	}
	if expiry.IsZero() {
		// The client library always sends "expiry", the zero time included;
		// without one the body must leave it out.
		body := map[string]any{"value": value, "comment": comment}
		if err := rawAPICall(ctx, c, http.MethodPost, body, "device", deviceID, "attributes", key); err != nil {
			return fmt.Errorf("setting posture attribute %q on device %s: %w", key, deviceID, scopeError(postureScope, err))
		}
		return nil
	}
	req := tsclient.DevicePostureAttributeRequest{Value: value, Expiry: tsclient.Time{Time: expiry.UTC()}, Comment: comment}
	if err := c.Devices().SetPostureAttribute(ctx, deviceID, key, req); err != nil {
		return fmt.Errorf("setting posture attribute %q on device %s: %w", key, deviceID, scopeError(postureScope, err))
	}
	return nil
}

// PostureAttributes reads a device's posture attributes, custom and
// reported ("node:…") alike, keyed by attribute name.
func PostureAttributes(ctx context.Context, c *tsclient.Client, deviceID string) (map[string]PostureAttribute, error) {
	got, err := c.Devices().GetPostureAttributes(ctx, deviceID)
	if err != nil {
		return nil, fmt.Errorf("reading posture attributes of device %s: %w", deviceID, scopeError(postureScope+":read", err))
	}
	out := make(map[string]PostureAttribute, len(got.Attributes))
	for k, v := range got.Attributes {
		out[k] = PostureAttribute{Value: v, Expiry: got.Expiries[k].Time}
	}
	return out, nil
}

// DeletePostureAttribute deletes the custom attribute key of a device.
// Deleting an attribute the device does not carry succeeds.
func DeletePostureAttribute(ctx context.Context, c *tsclient.Client, deviceID, key string) error {
	if err := c.Devices().DeletePostureAttribute(ctx, deviceID, key); err != nil {
		return fmt.Errorf("deleting posture attribute %q of device %s: %w", key, deviceID, scopeError(postureScope, err))
	}
	return nil
}

// UntaggedDevices lists the devices that belong to the user with the given
// login. A tagged device is owned by its tags, not by the user who
// registered it (its "user" field), so it is left out: deleting or
// marking it would touch shared infrastructure, not the person's own
// machine.
func UntaggedDevices(ctx context.Context, c *tsclient.Client, login string) ([]tsclient.Device, error) {
	all, err := c.Devices().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing devices of %s: %w", login, scopeError("devices:core:read", err))
	}
	var out []tsclient.Device
	for _, d := range all {
		if len(d.Tags) == 0 && strings.EqualFold(d.User, login) {
			out = append(out, d)
		}
	}
	return out, nil
}
