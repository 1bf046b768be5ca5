package grants

import (
	"context"
	"time"
)

// ExtensionInput is how much longer a grantee asks to keep a grant, and why.
type ExtensionInput struct {
	// Duration is how long from the approval; 0 means the resource's
	// default duration.
	Duration time.Duration
	Reason   string
}

// ExtendGrant files a request to extend the active grant id, by its
// grantee: a request for the grant's resource with Extends set, decided
// under the resource's rules like any other (auto-approval included). On
// approval the same grant's expiresAt moves to the approval time plus the
// duration, never earlier, so the grantee stays in the group throughout.
// Others get ErrNotFound (admins, who may see the grant, ErrForbidden); a
// grant that is not running any more is ErrConflict. Refusals are
// *Refusal.
func (s *Store) ExtendGrant(ctx context.Context, cat *Catalog, id int64, by *Person, in ExtensionInput, now time.Time) (*Request, error) {
	g, err := s.GetGrant(ctx, id)
	if err != nil {
		return nil, err
	}
	own := g.UserEmail == by.Email
	switch {
	case !own && !cat.IsAdmin(by):
		return nil, noSuchGrant(id)
	case !own:
		return nil, refuse(ErrForbidden, "only %s, who holds grant %d, may ask to extend it", g.UserEmail, g.ID)
	case g.Status != GrantActive:
		return nil, refuse(ErrConflict, "grant %d is %s, not active: request %s again instead", g.ID, g.Status, g.Resource)
	case !g.ExpiresAt.After(now):
		return nil, refuse(ErrConflict, "grant %d ended at %s: request %s again instead", g.ID, g.ExpiresAt.UTC().Format(time.RFC3339), g.Resource)
	}
	return s.CreateRequest(ctx, cat, by, RequestInput{Resource: g.Resource, Duration: in.Duration, Reason: in.Reason, Extends: &g.ID}, now)
}
