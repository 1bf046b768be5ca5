package grants

import (
	"slices"
	"time"
)

// IsAdmin reports whether p administers the portal: ACTIVE and in one of
// the admin groups.
func (c *Catalog) IsAdmin(p *Person) bool {
	return p != nil && p.Active() && p.InAny(c.Admins)
}

// MayRequest reports whether p may request r: r is not retired, p is
// ACTIVE and in one of its eligible groups (anyone when it names none).
func (r *Resource) MayRequest(p *Person) bool {
	return !r.Retired && p != nil && p.Active() && (len(r.Eligible) == 0 || p.InAny(r.Eligible))
}

// MayApprove reports whether p may approve requests for r: ACTIVE and in one
// of its approver groups, or an admin when it names none. Whether p is the
// requester is a separate rule (nobody approves their own request).
func (c *Catalog) MayApprove(p *Person, r Resource) bool {
	if len(r.Approvers) == 0 {
		return c.IsAdmin(p)
	}
	return p != nil && p.Active() && p.InAny(r.Approvers)
}

// ApprovableResources lists, sorted, the resources whose requests p may
// approve.
func (c *Catalog) ApprovableResources(p *Person) []string {
	var out []string
	for _, name := range c.ResourceNames() {
		if c.MayApprove(p, c.Resources[name]) {
			out = append(out, name)
		}
	}
	return out
}

// MayView reports whether p may see req: its requester, its approvers and
// the admins.
func (c *Catalog) MayView(p *Person, req *Request) bool {
	if p == nil {
		return false
	}
	if req.Requester == p.Email || c.IsAdmin(p) {
		return true
	}
	r, ok := c.Resources[req.Resource]
	return ok && c.MayApprove(p, r)
}

// approverGroups are the Okta groups whose members approve r.
func (c *Catalog) approverGroups(r Resource) []string {
	if len(r.Approvers) == 0 {
		return c.Admins
	}
	return r.Approvers
}

// requestDuration applies the resource's rules to a requested duration.
func requestDuration(res Resource, d time.Duration) (time.Duration, error) {
	maxD := res.MaxDuration
	if maxD <= 0 {
		maxD = defaultMaxDuration
	}
	if d == 0 {
		d = res.DefaultDuration
		if d <= 0 {
			d = min(defaultRequestDuration, maxD)
		}
	}
	switch {
	case d < 0:
		return 0, refuse(ErrInvalid, "duration %s must be positive", formatDuration(d))
	case d%time.Second != 0:
		return 0, refuse(ErrInvalid, "duration %s must be a whole number of seconds", d)
	case d > maxD:
		return 0, refuse(ErrInvalid, "duration %s is longer than the maximum %s for %s", formatDuration(d), formatDuration(maxD), res.Name)
	}
	return d, nil
}

// matching returns the groups of mine that are in wanted, sorted.
func matching(mine, wanted []string) []string {
	var out []string
	for _, g := range mine {
		if slices.Contains(wanted, g) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out
}
