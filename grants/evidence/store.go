package evidence

import (
	"context"
	"iter"
	"time"

	"github.com/accessportal/portal/grants"
)

// Store is the database side of a packet: every method streams, so that a
// packet of any period is written in constant memory.
type Store interface {
	// AuditBounds returns the ids of the first and the last audit event of
	// [since, until); both are 0 when the period has none.
	AuditBounds(ctx context.Context, since, until time.Time) (first, last int64, err error)
	// AuditEvents yields the events with afterID < id <= throughID in id
	// (chain) order.
	AuditEvents(ctx context.Context, afterID, throughID int64) iter.Seq2[*grants.AuditEvent, error]
	// Grants yields, in id order, every grant active at some moment of
	// [since, until): started before until and not confirmed removed
	// before since.
	Grants(ctx context.Context, since, until time.Time) iter.Seq2[*GrantRecord, error]
	// Offboardings yields, in id order, the offboardings started in
	// [since, until).
	Offboardings(ctx context.Context, since, until time.Time) iter.Seq2[*OffboardingRecord, error]
	// PolicyWriteNear returns the id of the portal's policy write (a
	// sync.apply audit event) within window of at whose new ETag is etag
	// (any, when etag or the event's ETag is unknown), the nearest in time;
	// 0 when there is none.
	PolicyWriteNear(ctx context.Context, at time.Time, window time.Duration, etag string) (int64, error)
}

// GrantRecord is one grant with what the packet says about it.
type GrantRecord struct {
	grants.Grant
	// Requested is when the request was made; nil for a direct grant.
	Requested *time.Time
	// Approved is when access was decided: the request's decision, or the
	// start of a direct grant.
	Approved *time.Time
	// Approvers are the people who approved the request, oldest first;
	// "system" for an on-call auto-approval; the admin of a direct grant.
	Approvers []string
	// Direct is an admin's grant without a request.
	Direct bool
	// AutoApproved is a grant approved by the on-call rule.
	AutoApproved bool
	// RevokedAt is when the grant was revoked (from its grant.revoke audit
	// event); nil when it was not.
	RevokedAt *time.Time
}

// End is when access should have ended: the revocation, or the expiry.
func (g *GrantRecord) End() time.Time {
	if g.RevokedAt != nil && g.RevokedAt.Before(g.ExpiresAt) {
		return *g.RevokedAt
	}
	return g.ExpiresAt
}

// OffboardingRecord is one offboarding with the Okta event behind it.
type OffboardingRecord struct {
	grants.Offboarding
	// EventPublished is when Okta published the event that reported the
	// departure; nil when the poll found it.
	EventPublished *time.Time
}

// Detected is the first moment the portal can be said to have known: the
// Okta event's publication, its receipt, or the start of the cascade.
func (o *OffboardingRecord) Detected() time.Time {
	switch {
	case o.EventPublished != nil:
		return *o.EventPublished
	case o.EventReceivedAt != nil:
		return *o.EventReceivedAt
	}
	return o.StartedAt
}
