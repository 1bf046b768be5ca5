package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/tailnet"
)

// DeviceAPI is the part of the control API the second lock needs: device
// posture attributes (https://tailscale.com/kb/1288/device-posture).
type DeviceAPI interface {
	UserDevices(ctx context.Context) (map[string][]tailnet.Device, error)
	SetPosture(ctx context.Context, deviceID, key string, expiry time.Time) error
	Posture(ctx context.Context, deviceID string) (map[string]tailnet.PostureAttribute, error)
	DeletePosture(ctx context.Context, deviceID, key string) error
}

// runPostures keeps the second lock: after every pass and every
// PostureEvery, every untagged device of every grantee of a resource with a
// devicePosture carries that attribute with the grant's expiry, and no
// device keeps it for a grant that ended. Like group membership it is
// level-triggered and recorded, so a crash loses nothing.
func (r *Reconciler) runPostures(ctx context.Context) {
	t := time.NewTicker(r.o.PostureEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.postureWake:
		case <-t.C:
		}
		if err := r.Postures(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("device posture", "err", err)
		}
	}
}

// wakePostures asks for a posture pass soon; it never blocks.
func (r *Reconciler) wakePostures() {
	select {
	case r.postureWake <- struct{}{}:
	default:
	}
}

// Postures runs one posture pass: sets, moves (an extension) and deletes
// attributes until what Tailscale holds matches the running grants.
func (r *Reconciler) Postures(ctx context.Context) error {
	if r.o.Devices == nil {
		return nil
	}
	keys := map[string]string{} // resource → attribute
	for name, res := range r.o.Catalog().Resources {
		if res.DevicePosture != "" {
			keys[name] = res.DevicePosture
		}
	}
	now := r.o.Clock()
	want, err := r.o.Store.PostureGrants(ctx, slices.Sorted(maps.Keys(keys)), now)
	if err != nil {
		return err
	}
	open, err := r.o.Store.OpenPostures(ctx)
	if err != nil || (len(want) == 0 && len(open) == 0) {
		return err
	}
	devices, err := r.o.Devices.UserDevices(ctx)
	if err != nil {
		r.postureProblem(err)
		return err
	}
	kept, err := r.setPostures(ctx, want, keys, open, devices)
	if err != nil {
		r.postureProblem(err)
		return err
	}
	r.postureProblem(nil)
	return r.removePostures(ctx, open, kept)
}

// setPostures sets the attribute on each device of each running grant that
// does not carry it with the grant's expiry yet, confirms it by reading it
// back, and returns the (grant, device) pairs that must keep it.
func (r *Reconciler) setPostures(ctx context.Context, want []grants.PostureGrant, keys map[string]string, open []grants.DevicePosture, devices map[string][]tailnet.Device) (map[[2]string]bool, error) {
	have := map[string]grants.DevicePosture{}
	for _, p := range open {
		have[fmt.Sprint(p.GrantID, "/", p.DeviceID)] = p
	}
	kept := map[[2]string]bool{} // {device, key}
	for _, g := range want {
		key := keys[g.Resource]
		for _, d := range devices[strings.ToLower(g.User)] {
			kept[[2]string{d.ID, key}] = true
			p, ok := have[fmt.Sprint(g.ID, "/", d.ID)]
			if ok && p.AttrKey == key && p.ExpiresAt.Equal(g.ExpiresAt) && p.ConfirmedAt != nil {
				continue
			}
			if err := r.o.Devices.SetPosture(ctx, d.ID, key, g.ExpiresAt); err != nil {
				return kept, err
			}
			held, err := r.o.Devices.Posture(ctx, d.ID)
			if err != nil {
				return kept, err
			}
			a, found := held[key]
			confirmed := found && a.Value == true && sameSecond(a.Expiry, g.ExpiresAt)
			rec := grants.DevicePosture{GrantID: g.ID, DeviceID: d.ID, DeviceName: d.Name, AttrKey: key, ExpiresAt: g.ExpiresAt}
			if err := r.o.Store.RecordPostureSet(ctx, rec, confirmed, r.o.Clock()); err != nil {
				return kept, err
			}
		}
	}
	return kept, nil
}

// removePostures deletes the attribute of every recorded posture no running
// grant needs any more (the grant ended or was revoked, the device left);
// an attribute another running grant still needs on that device stays.
func (r *Reconciler) removePostures(ctx context.Context, open []grants.DevicePosture, kept map[[2]string]bool) error {
	running := map[int64]bool{}
	now := r.o.Clock()
	for _, p := range open {
		if p.ExpiresAt.After(now) && kept[[2]string{p.DeviceID, p.AttrKey}] {
			running[p.GrantID] = true
		}
	}
	for _, p := range open {
		if running[p.GrantID] && kept[[2]string{p.DeviceID, p.AttrKey}] {
			continue
		}
		reason := "the grant ended"
		if !kept[[2]string{p.DeviceID, p.AttrKey}] {
			if err := r.o.Devices.DeletePosture(ctx, p.DeviceID, p.AttrKey); err != nil && !tailnet.IsNotFound(err) {
				return err
			}
		} else {
			reason = "the grant ended; another running grant keeps the attribute"
		}
		if err := r.o.Store.RecordPostureRemoved(ctx, p, reason, r.o.Clock()); err != nil {
			return err
		}
	}
	return nil
}

// postureProblem remembers why the second lock cannot be kept (a missing
// scope above all), for the sync status; nil clears it.
func (r *Reconciler) postureProblem(err error) {
	msg := ""
	switch {
	case tailnet.IsMissingScope(err):
		msg = "device posture is off: the Tailscale credential lacks devices:posture_attributes (and devices:core:read); group membership still ends access"
	case err != nil:
		msg = "device posture not kept: " + err.Error()
	}
	r.mu.Lock()
	r.postureWarning = msg
	r.mu.Unlock()
}

func sameSecond(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Second && d < time.Second
}
