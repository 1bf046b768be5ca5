package grants

import (
	"context"
	"log/slog"
	"time"
)

// DeviceDeleter deletes a person's devices from the tailnet and names the
// devices deleted (also those deleted before a failure).
type DeviceDeleter interface {
	DeleteDevicesOf(ctx context.Context, login string) ([]string, error)
}

// OffboardDepartedWithDevices runs the offboarding cascade for the people
// who left (see Store.OffboardDeparted), then, when the catalog says so
// ("offboarding": {"tailscaleDevices": "delete"}), the deletion of their
// Tailscale devices, each one audited. Failures are logged: the next
// directory change tries the cascade again.
func (s *Store) OffboardDepartedWithDevices(ctx context.Context, cat *Catalog, devices DeviceDeleter, now func() time.Time) {
	offboarded, err := s.OffboardDeparted(ctx, now())
	if err != nil {
		slog.Error("offboarding cascade", "err", err)
	}
	if !cat.DeleteDevices || devices == nil {
		return
	}
	for _, o := range offboarded {
		s.deleteDevices(ctx, devices, o, now)
	}
}

// deleteDevices deletes an offboarded person's devices, each one audited.
func (s *Store) deleteDevices(ctx context.Context, devices DeviceDeleter, o Offboarding, now func() time.Time) {
	names, err := devices.DeleteDevicesOf(ctx, o.Email)
	for _, name := range names {
		if aerr := s.AppendAudit(ctx, Event{At: now(), Actor: "okta", Action: "device.delete",
			Target: "device:" + name, Details: map[string]any{"user": o.Email, "offboarding": o.ID}}); aerr != nil {
			slog.Error("auditing device deletion", "err", aerr)
		}
	}
	if err != nil {
		slog.Error("deleting devices of an offboarded person", "email", o.Email, "err", err)
	}
}
