package grants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RequestInput is what a person asks for.
type RequestInput struct {
	Resource string
	// Duration is how long; 0 means the resource's default duration.
	Duration time.Duration
	Reason   string
	// Extends is the active grant this request extends (ExtendGrant sets
	// it); nil for a new request.
	Extends *int64
}

// CreateRequest records requester's request under the catalog's rules, in
// one transaction with its audit events. Members of the resource's
// autoApprove groups are approved at once (their grant is created or
// extended), and so are people on call now in one of its onCall schedules
// (asked through the store's OnCallChecker, before the transaction, for at
// most a few seconds); other requests wait for approvers, who are notified,
// with a pendingReason when the on-call rule could not decide. Refusals are
// *Refusal.
func (s *Store) CreateRequest(ctx context.Context, cat *Catalog, requester *Person, in RequestInput, now time.Time) (*Request, error) {
	db := s.db.DB
	res, ok := cat.Resources[in.Resource]
	if !ok {
		return nil, refuse(ErrNotFound, "no resource %q in the catalog", in.Resource)
	}
	if !requester.Active() {
		return nil, refuse(ErrForbidden, "%s is %s in Okta; only ACTIVE users may request access", requester.Email, requester.Status)
	}
	if res.Retired {
		return nil, refuse(ErrConflict, "%s is retired: it takes no new requests", res.Name)
	}
	if !res.MayRequest(requester) {
		return nil, refuse(ErrForbidden, "%s may be requested only by members of %s", res.Name, quoteList(res.Eligible))
	}
	reason, err := checkText("reason", in.Reason)
	if err != nil {
		return nil, err
	}
	if res.RequireReason && reason == "" {
		return nil, refuse(ErrInvalid, "%s requires a reason: say why you need access", res.Name)
	}
	d, err := requestDuration(res, in.Duration)
	if err != nil {
		return nil, err
	}
	autoGroups := matching(requester.Groups, res.AutoApprove)
	req := &Request{
		Resource: res.Name, Requester: requester.Email, DurationSeconds: int64(d / time.Second),
		Reason: reason, Status: RequestPending, CreatedAt: dbTime(now),
		ExtendsGrantID: in.Extends,
	}
	var onCall *onCallApproval
	if len(autoGroups) > 0 {
		req.AutoApprovedRule = autoApproveRule(autoGroups)
	} else {
		// Asked before the transaction: the on-call service may take seconds.
		onCall, req.PendingReason = s.checkOnCall(ctx, res, requester.Email, d, now)
		if onCall != nil {
			req.AutoApprovedRule = onCall.rule
		}
	}
	err = inAuditedTx(ctx, db, func(tx *gorm.DB) error {
		if req.AutoApprovedRule == "" {
			var open Request
			if err := tx.Where("requester = ? AND resource = ? AND status = ?", req.Requester, req.Resource, RequestPending).Limit(1).Find(&open).Error; err != nil {
				return fmt.Errorf("reading pending requests: %w", err)
			}
			if open.ID != 0 {
				return refuse(ErrConflict, "your request %d for %s is already pending; cancel it or wait for a decision", open.ID, res.Name)
			}
		}
		if err := tx.Create(req).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return refuse(ErrConflict, "you already have a pending request for %s", res.Name)
			}
			return fmt.Errorf("storing request: %w", err)
		}
		details := map[string]any{"resource": res.Name, "duration": formatDuration(d), "reason": reason}
		if req.PendingReason != "" {
			details["pendingReason"] = req.PendingReason
		}
		if in.Extends != nil {
			details["extends"] = *in.Extends
		}
		err := AppendAudit(ctx, tx, Event{At: now, Actor: req.Requester, Action: "request.create", Target: requestTarget(req.ID), Details: details})
		if err != nil {
			return err
		}
		switch {
		case len(autoGroups) > 0:
			g, err := approve(ctx, tx, res, req, "system", now)
			if err != nil {
				return err
			}
			return AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: "request.auto-approve", Target: requestTarget(req.ID),
				Details: map[string]any{"rule": "autoApprove", "groups": autoGroups, "grant": g.ID, "expiresAt": g.ExpiresAt.UTC()}})
		case onCall != nil:
			g, err := approveWith(ctx, tx, req, grantInput{resource: res, duration: onCall.duration, grantedBy: "system", onCallSchedules: onCall.schedules}, now)
			if err != nil {
				return err
			}
			return AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: "request.auto-approve", Target: requestTarget(req.ID),
				Details: map[string]any{"rule": "onCall", "autoApprovedRule": onCall.rule, "grant": g.ID, "expiresAt": g.ExpiresAt.UTC()}})
		}
		return notifyApprovers(ctx, tx, cat, res, req, now)
	})
	if err != nil {
		return nil, err
	}
	return s.GetRequest(ctx, req.ID)
}

// ApproveRequest records approver's approval of request id. When the
// resource's required number of distinct approvals is reached, the request
// is approved and the requester's grant created or extended (never
// shortened), all in one transaction. Nobody approves their own request, not
// even an admin. Refusals are *Refusal.
func (s *Store) ApproveRequest(ctx context.Context, cat *Catalog, id int64, approver *Person, comment string, now time.Time) (*Request, error) {
	req, err := s.decide(ctx, cat, id, approver, DecisionApprove, comment, 0, now)
	return req, s.auditSelfApproval(ctx, err, id, approver, now)
}

// ApproveInput is an approver's approval: a comment and, optionally, the
// grant's length (0: as requested).
type ApproveInput struct {
	Comment  string
	Duration time.Duration
}

// ApproveRequestWith is ApproveRequestFor with its input as one value.
func (s *Store) ApproveRequestWith(ctx context.Context, cat *Catalog, id int64, approver *Person, in ApproveInput, now time.Time) (*Request, error) {
	return s.ApproveRequestFor(ctx, cat, id, approver, in.Comment, in.Duration, now)
}

// ApproveRequestFor is ApproveRequest with the grant's length set by the
// approver: d is positive and at most the resource's maxDuration (0 keeps
// the requested duration; more than the maximum is ErrInvalid and the
// request stays pending). With several approvals the shortest duration
// set wins, and the grant's clock starts at the final approval. Only
// approvals of people who may approve at that moment count.
func (s *Store) ApproveRequestFor(ctx context.Context, cat *Catalog, id int64, approver *Person, comment string, d time.Duration, now time.Time) (*Request, error) {
	req, err := s.decide(ctx, cat, id, approver, DecisionApprove, comment, d, now)
	return req, s.auditSelfApproval(ctx, err, id, approver, now)
}

// DenyRequest records approver's denial: one denial denies the request.
// Approvers of the resource and admins may deny; the requester cancels
// instead. Refusals are *Refusal.
func (s *Store) DenyRequest(ctx context.Context, cat *Catalog, id int64, approver *Person, comment string, now time.Time) (*Request, error) {
	return s.decide(ctx, cat, id, approver, DecisionDeny, comment, 0, now)
}

func (s *Store) decide(ctx context.Context, cat *Catalog, id int64, by *Person, decision, comment string, d time.Duration, now time.Time) (*Request, error) {
	db := s.db.DB
	comment, err := checkText("comment", comment)
	if err != nil {
		return nil, err
	}
	err = inAuditedTx(ctx, db, func(tx *gorm.DB) error {
		req, err := lockRequest(tx, id)
		if err != nil {
			return err
		}
		if err := cat.MayDecide(by, req, decision); err != nil {
			return err
		}
		res := cat.Resources[req.Resource]
		var prior Approval
		if err := tx.Where("request_id = ? AND approver = ?", req.ID, by.Email).Limit(1).Find(&prior).Error; err != nil {
			return fmt.Errorf("reading decisions: %w", err)
		}
		if prior.ID != 0 {
			return refuse(ErrConflict, "you already decided request %d (%s)", req.ID, prior.Decision)
		}
		if err := approverDuration(res, d); err != nil {
			return err
		}
		a := Approval{RequestID: req.ID, Approver: by.Email, Decision: decision, Comment: comment, At: dbTime(now)}
		if d > 0 {
			secs := int64(d / time.Second)
			a.DurationSeconds = &secs
		}
		if err := tx.Create(&a).Error; err != nil {
			return fmt.Errorf("storing decision: %w", err)
		}
		if decision == DecisionDeny {
			if err := finish(tx, req, RequestDenied, now); err != nil {
				return err
			}
			err := AppendAudit(ctx, tx, Event{At: now, Actor: by.Email, Action: "request.deny", Target: requestTarget(req.ID),
				Details: map[string]any{"comment": comment, "resource": req.Resource, "requester": req.Requester}})
			if err != nil {
				return err
			}
			return notifyDecision(tx, req, RequestDenied, by.Email, comment, nil, now)
		}
		approvals, length, err := quorum(ctx, tx, cat, res, req)
		if err != nil {
			return err
		}
		needed := max(res.Approvals, 1)
		details := map[string]any{"comment": comment, "resource": req.Resource, "requester": req.Requester,
			"approvals": approvals, "required": needed}
		if d > 0 {
			details["duration"] = formatDuration(d)
		}
		if approvals < needed {
			return AppendAudit(ctx, tx, Event{At: now, Actor: by.Email, Action: "request.approve", Target: requestTarget(req.ID), Details: details})
		}
		if err := checkRequesterStillEligible(ctx, tx, res, req); err != nil {
			return err
		}
		g, err := approveFor(ctx, tx, res, req, by.Email, length, now)
		if err != nil {
			return err
		}
		details["grant"], details["expiresAt"] = g.ID, g.ExpiresAt.UTC()
		if err := AppendAudit(ctx, tx, Event{At: now, Actor: by.Email, Action: "request.approve", Target: requestTarget(req.ID), Details: details}); err != nil {
			return err
		}
		return notifyDecision(tx, req, RequestApproved, by.Email, comment, g, now)
	})
	if err != nil {
		return nil, err
	}
	return s.GetRequest(ctx, id)
}

// MayDecide says whether by may record decision (DecisionApprove or
// DecisionDeny) on req now: nil, or the *Refusal the API answers with.
// Slack checks a click with it before opening the decision's modal.
func (c *Catalog) MayDecide(by *Person, req *Request, decision string) error {
	if !by.Active() {
		return refuse(ErrForbidden, "%s is %s in Okta; only ACTIVE users may decide requests", by.Email, by.Status)
	}
	if !c.MayView(by, req) {
		return noSuchRequest(req.ID)
	}
	res, known := c.Resources[req.Resource]
	mayApprove := known && c.MayApprove(by, res)
	switch {
	case req.Requester == by.Email && decision == DecisionApprove:
		return errSelfApproval
	case req.Requester == by.Email:
		return refuse(ErrForbidden, "you cannot deny your own request; cancel it instead")
	case !known && decision == DecisionApprove:
		// Only admins see such a request (MayView).
		return refuse(ErrConflict, "resource %q is no longer in the catalog; request %d can only be denied", req.Resource, req.ID)
	case decision == DecisionApprove && !mayApprove:
		return refuse(ErrForbidden, "requests for %s are approved by members of %s", req.Resource, quoteList(c.approverGroups(res)))
	case decision == DecisionDeny && !mayApprove && !c.IsAdmin(by):
		return refuse(ErrForbidden, "requests for %s are decided by members of %s", req.Resource, quoteList(c.approverGroups(res)))
	case req.Status != RequestPending:
		return refuse(ErrConflict, "request %d is %s, not pending", req.ID, req.Status)
	}
	return nil
}

// checkRequesterStillEligible refuses to approve for someone who since left
// Okta's ACTIVE users or the resource's eligible groups, and for a resource
// retired since the request was made.
func checkRequesterStillEligible(ctx context.Context, tx *gorm.DB, res Resource, req *Request) error {
	if res.Retired {
		return refuse(ErrConflict, "%s was retired since request %d was made; it can only be denied", res.Name, req.ID)
	}
	p, err := LookupPerson(ctx, tx, req.Requester)
	if errors.Is(err, ErrUnknownPerson) {
		return refuse(ErrConflict, "%s is no longer in the Okta directory; request %d cannot be approved", req.Requester, req.ID)
	}
	if err != nil {
		return err
	}
	if !p.Active() {
		return refuse(ErrConflict, "%s is %s in Okta; request %d cannot be approved", req.Requester, p.Status, req.ID)
	}
	if !res.MayRequest(p) {
		return refuse(ErrConflict, "%s is no longer in a group eligible for %s; request %d cannot be approved", req.Requester, res.Name, req.ID)
	}
	return nil
}

// approve moves a pending request to approved, guarded by its status so that
// of two concurrent approvals only one wins, and grants the access.
func approve(ctx context.Context, tx *gorm.DB, res Resource, req *Request, by string, now time.Time) (*Grant, error) {
	return approveFor(ctx, tx, res, req, by, req.Duration(), now)
}

// approveFor is approve with the grant's length d.
func approveFor(ctx context.Context, tx *gorm.DB, res Resource, req *Request, by string, d time.Duration, now time.Time) (*Grant, error) {
	return approveWith(ctx, tx, req, grantInput{resource: res, duration: d, grantedBy: by}, now)
}

// approveWith approves req and grants its requester the access in (the
// resource, the length, who or which rule approved).
func approveWith(ctx context.Context, tx *gorm.DB, req *Request, in grantInput, now time.Time) (*Grant, error) {
	if err := finish(tx, req, RequestApproved, now); err != nil {
		return nil, err
	}
	rid := req.ID
	in.user, in.requestID, in.reason = req.Requester, &rid, req.Reason
	g, err := grantAccess(ctx, tx, in, now)
	if err != nil {
		return nil, err
	}
	if err := tx.Model(&Request{}).Where("id = ?", req.ID).Update("grant_id", g.ID).Error; err != nil {
		return nil, fmt.Errorf("linking request %d to grant %d: %w", req.ID, g.ID, err)
	}
	return g, nil
}

// finish ends a pending request with status: a conditional update, so that
// a request that is no longer pending stays as it is (409).
func finish(tx *gorm.DB, req *Request, status string, now time.Time) error {
	res := tx.Model(&Request{}).Where("id = ? AND status = ?", req.ID, RequestPending).
		Updates(map[string]any{"status": status, "decided_at": dbTime(now)})
	if res.Error != nil {
		return fmt.Errorf("updating request %d: %w", req.ID, res.Error)
	}
	if res.RowsAffected != 1 {
		return refuse(ErrConflict, "request %d is no longer pending", req.ID)
	}
	req.Status = status
	return nil
}

// CancelRequest withdraws a pending request; only its requester may.
func (s *Store) CancelRequest(ctx context.Context, cat *Catalog, id int64, by *Person, now time.Time) (*Request, error) {
	db := s.db.DB
	err := inAuditedTx(ctx, db, func(tx *gorm.DB) error {
		req, err := lockRequest(tx, id)
		if err != nil {
			return err
		}
		if !cat.MayView(by, req) {
			return noSuchRequest(id)
		}
		if req.Requester != by.Email {
			return refuse(ErrForbidden, "only %s, who made request %d, may cancel it", req.Requester, req.ID)
		}
		if req.Status != RequestPending {
			return refuse(ErrConflict, "request %d is %s, not pending", req.ID, req.Status)
		}
		if err := finish(tx, req, RequestCancelled, now); err != nil {
			return err
		}
		err = AppendAudit(ctx, tx, Event{At: now, Actor: by.Email, Action: "request.cancel", Target: requestTarget(req.ID),
			Details: map[string]any{"resource": req.Resource}})
		if err != nil {
			return err
		}
		return notifyCancelled(tx, req, now)
	})
	if err != nil {
		return nil, err
	}
	return s.GetRequest(ctx, id)
}

// ExpireStaleRequests marks pending requests created more than ttl before
// now as expired, each with its audit event, and notifies their requesters.
// It returns the ids it expired.
func (s *Store) ExpireStaleRequests(ctx context.Context, ttl time.Duration, now time.Time) ([]int64, error) {
	db := s.db.DB
	cutoff := dbTime(now.Add(-ttl))
	var expired []int64
	for {
		var batch []Request
		err := db.WithContext(ctx).Where("status = ? AND created_at <= ?", RequestPending, cutoff).
			Order("created_at, id").Limit(sweepBatch).Find(&batch).Error
		if err != nil {
			return expired, fmt.Errorf("reading stale requests: %w", err)
		}
		if len(batch) == 0 {
			return expired, nil
		}
		err = inAuditedTx(ctx, db, func(tx *gorm.DB) error {
			for i := range batch {
				req := &batch[i]
				err := finish(tx, req, RequestExpired, now)
				var r *Refusal
				if errors.As(err, &r) {
					continue // decided meanwhile
				}
				if err != nil {
					return err
				}
				err = AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: "request.expire", Target: requestTarget(req.ID),
					Details: map[string]any{"resource": req.Resource, "requester": req.Requester, "createdAt": req.CreatedAt.UTC(), "ttl": formatDuration(ttl)}})
				if err != nil {
					return err
				}
				if err := notifyDecision(tx, req, RequestExpired, "", "", nil, now); err != nil {
					return err
				}
				expired = append(expired, req.ID)
			}
			return nil
		})
		if err != nil {
			return expired, err
		}
		if len(batch) < sweepBatch {
			return expired, nil
		}
	}
}

// lockRequest reads a request for update (a row lock on PostgreSQL; SQLite
// transactions already hold the write lock).
func lockRequest(tx *gorm.DB, id int64) (*Request, error) {
	var req Request
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&req).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, noSuchRequest(id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading request %d: %w", id, err)
	}
	return &req, nil
}

// noSuchRequest is the answer for a request that does not exist or that the
// caller may not see: the same words, so that ids do not leak.
func noSuchRequest(id int64) *Refusal {
	return refuse(ErrNotFound, "no request %d", id)
}
