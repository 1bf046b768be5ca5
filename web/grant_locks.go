package web

import (
	"context"

	"github.com/accessportal/portal/grants"
)

// grantLocks is how an active grant is held in the tailnet: the first lock
// (the grantee in the resource's group, confirmed) and, for a resource with
// devicePosture, the second (the attribute on the grantee's devices,
// confirmed by reading it back).
type grantLocks struct {
	InGroup bool
	// Posture is the resource's attribute; "" for one lock only.
	Posture string
	// Confirmed of Devices carry the attribute.
	Confirmed, Devices int
}

// PostureOK says that every device the attribute was set on carries it.
func (l grantLocks) PostureOK() bool { return l.Devices > 0 && l.Confirmed == l.Devices }

// locksOf reads the locks of active grants, by grant id.
func (s *Server) locksOf(ctx context.Context, gs []*grants.Grant) (map[int64]grantLocks, error) {
	cat := s.opts.Catalog()
	out := map[int64]grantLocks{}
	var withPosture []int64
	for _, g := range gs {
		if g.Status != grants.GrantActive {
			continue
		}
		l := grantLocks{InGroup: g.AppliedAt != nil}
		if res, ok := cat.Resources[g.Resource]; ok && res.DevicePosture != "" {
			l.Posture = res.DevicePosture
			withPosture = append(withPosture, g.ID)
		}
		out[g.ID] = l
	}
	counts, err := s.store.PostureCounts(ctx, withPosture)
	if err != nil {
		return nil, err
	}
	for _, id := range withPosture {
		l := out[id]
		l.Confirmed, l.Devices = counts[id].Confirmed, counts[id].Devices
		out[id] = l
	}
	return out, nil
}

// addLocks fills the locks of the admin access page's grant rows.
func (s *Server) addLocks(ctx context.Context, rows []adminGrantRow, gs []grants.Grant) error {
	ptrs := make([]*grants.Grant, len(gs))
	for i := range gs {
		ptrs[i] = &gs[i]
	}
	locks, err := s.locksOf(ctx, ptrs)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].Locks = locks[rows[i].ID]
	}
	return nil
}
