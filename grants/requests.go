package grants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accessportal/portal/grants/database"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Request statuses.
const (
	RequestPending   = "pending"
	RequestApproved  = "approved"
	RequestDenied    = "denied"
	RequestCancelled = "cancelled"
	// RequestExpired is a pending request nobody decided within the request TTL.
	RequestExpired = "expired"
)

// RequestStatuses are every request status, in lifecycle order.
var RequestStatuses = []string{RequestPending, RequestApproved, RequestDenied, RequestCancelled, RequestExpired}

// Decisions an approver records on a request.
const (
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
)

// maxTextLen bounds reasons and comments: they end up in the audit log,
// notifications and the dashboard.
const maxTextLen = 2000

// Request is a person's request for a resource for a while.
type Request struct {
	ID              int64 `gorm:"primaryKey"`
	Resource        string
	Requester       string // email
	DurationSeconds int64
	Reason          string
	Status          string
	CreatedAt       time.Time
	DecidedAt       *time.Time
	GrantID         *int64

	// Decisions are the approvers' decisions, oldest first; loaded by
	// GetRequest and ListRequests.
	Decisions []Approval `gorm:"-"`
	// Grant is the grant this request created or extended, if any.
	Grant *Grant `gorm:"-"`
}

// Duration is how long the request asks access for.
func (r *Request) Duration() time.Duration { return time.Duration(r.DurationSeconds) * time.Second }

// Approval is one approver's decision on a request: DecisionApprove or
// DecisionDeny.
type Approval struct {
	ID        int64 `gorm:"primaryKey"`
	RequestID int64
	Approver  string
	Decision  string
	Comment   string
	At        time.Time
}

// decisionJSON is one decision as the API shows it.
type decisionJSON struct {
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment"`
}

// requestJSON is the API's Request (CONTRACT.md), plus "denial": the
// decision that denied it, or null.
type requestJSON struct {
	ID        int64          `json:"id"`
	Resource  string         `json:"resource"`
	Requester string         `json:"requester"`
	Duration  string         `json:"duration"`
	Reason    string         `json:"reason"`
	Status    string         `json:"status"`
	Approvals []decisionJSON `json:"approvals"`
	Denial    *decisionJSON  `json:"denial"`
	Grant     *Grant         `json:"grant"`
	CreatedAt time.Time      `json:"createdAt"`
	DecidedAt *time.Time     `json:"decidedAt"`
}

// MarshalJSON renders the request in the API's shape: duration as a Go
// duration ("2h", "90m"), times in UTC, "approvals" holding the approving
// decisions only.
func (r Request) MarshalJSON() ([]byte, error) {
	out := requestJSON{
		ID: r.ID, Resource: r.Resource, Requester: r.Requester, Duration: formatDuration(r.Duration()),
		Reason: r.Reason, Status: r.Status, Approvals: []decisionJSON{}, Grant: r.Grant,
		CreatedAt: r.CreatedAt.UTC(), DecidedAt: utcPtr(r.DecidedAt),
	}
	for _, a := range r.Decisions {
		d := decisionJSON{By: a.Approver, At: a.At.UTC(), Comment: a.Comment}
		if a.Decision == DecisionDeny {
			out.Denial = &d
			continue
		}
		out.Approvals = append(out.Approvals, d)
	}
	return json.Marshal(out)
}

// Refusal is an operation the rules refuse. Kind is ErrInvalid,
// ErrForbidden, ErrNotFound or ErrConflict; the message says why, in words
// meant for the person who asked.
type Refusal struct {
	Kind error
	Msg  string
}

func (r *Refusal) Error() string { return r.Msg }

// Unwrap lets errors.Is match the kind.
func (r *Refusal) Unwrap() error { return r.Kind }

// Kinds of refusal.
var (
	ErrInvalid   = errors.New("invalid input")
	ErrForbidden = errors.New("not allowed")
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("wrong state")
)

func refuse(kind error, format string, args ...any) *Refusal {
	return &Refusal{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

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

// RequestInput is what a person asks for.
type RequestInput struct {
	Resource string
	// Duration is how long; 0 means the resource's default duration.
	Duration time.Duration
	Reason   string
}

// CreateRequest records requester's request under the catalog's rules, in
// one transaction with its audit events. Members of the resource's
// autoApprove groups are approved at once (their grant is created or
// extended); other requests wait for approvers, who are notified. Refusals
// are *Refusal.
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
	}
	err = inAuditedTx(ctx, db, func(tx *gorm.DB) error {
		if len(autoGroups) == 0 {
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
		err := AppendAudit(ctx, tx, Event{At: now, Actor: req.Requester, Action: "request.create", Target: requestTarget(req.ID),
			Details: map[string]any{"resource": res.Name, "duration": formatDuration(d), "reason": reason}})
		if err != nil {
			return err
		}
		if len(autoGroups) == 0 {
			return notifyApprovers(ctx, tx, cat, res, req, now)
		}
		g, err := approve(ctx, tx, res, req, "system", now)
		if err != nil {
			return err
		}
		return AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: "request.auto-approve", Target: requestTarget(req.ID),
			Details: map[string]any{"rule": "autoApprove", "groups": autoGroups, "grant": g.ID, "expiresAt": g.ExpiresAt.UTC()}})
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
	return s.decide(ctx, cat, id, approver, DecisionApprove, comment, now)
}

// DenyRequest records approver's denial: one denial denies the request.
// Approvers of the resource and admins may deny; the requester cancels
// instead. Refusals are *Refusal.
func (s *Store) DenyRequest(ctx context.Context, cat *Catalog, id int64, approver *Person, comment string, now time.Time) (*Request, error) {
	return s.decide(ctx, cat, id, approver, DecisionDeny, comment, now)
}

func (s *Store) decide(ctx context.Context, cat *Catalog, id int64, by *Person, decision, comment string, now time.Time) (*Request, error) {
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
		if !by.Active() {
			return refuse(ErrForbidden, "%s is %s in Okta; only ACTIVE users may decide requests", by.Email, by.Status)
		}
		if !cat.MayView(by, req) {
			return noSuchRequest(id)
		}
		res, known := cat.Resources[req.Resource]
		mayApprove := known && cat.MayApprove(by, res)
		switch {
		case req.Requester == by.Email && decision == DecisionApprove:
			return refuse(ErrForbidden, "you cannot approve your own request")
		case req.Requester == by.Email:
			return refuse(ErrForbidden, "you cannot deny your own request; cancel it instead")
		case !known && decision == DecisionApprove:
			// Only admins see such a request (MayView).
			return refuse(ErrConflict, "resource %q is no longer in the catalog; request %d can only be denied", req.Resource, req.ID)
		case decision == DecisionApprove && !mayApprove:
			return refuse(ErrForbidden, "requests for %s are approved by members of %s", req.Resource, quoteList(cat.approverGroups(res)))
		case decision == DecisionDeny && !mayApprove && !cat.IsAdmin(by):
			return refuse(ErrForbidden, "requests for %s are decided by members of %s", req.Resource, quoteList(cat.approverGroups(res)))
		case req.Status != RequestPending:
			return refuse(ErrConflict, "request %d is %s, not pending", req.ID, req.Status)
		}
		var prior Approval
		if err := tx.Where("request_id = ? AND approver = ?", req.ID, by.Email).Limit(1).Find(&prior).Error; err != nil {
			return fmt.Errorf("reading decisions: %w", err)
		}
		if prior.ID != 0 {
			return refuse(ErrConflict, "you already decided request %d (%s)", req.ID, prior.Decision)
		}
		a := Approval{RequestID: req.ID, Approver: by.Email, Decision: decision, Comment: comment, At: dbTime(now)}
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
		var approvals int64
		if err := tx.Model(&Approval{}).Where("request_id = ? AND decision = ?", req.ID, DecisionApprove).Count(&approvals).Error; err != nil {
			return fmt.Errorf("counting approvals: %w", err)
		}
		needed := max(res.Approvals, 1)
		details := map[string]any{"comment": comment, "resource": req.Resource, "requester": req.Requester,
			"approvals": approvals, "required": needed}
		if int(approvals) < needed {
			return AppendAudit(ctx, tx, Event{At: now, Actor: by.Email, Action: "request.approve", Target: requestTarget(req.ID), Details: details})
		}
		if err := checkRequesterStillEligible(ctx, tx, res, req); err != nil {
			return err
		}
		g, err := approve(ctx, tx, res, req, by.Email, now)
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
	if err := finish(tx, req, RequestApproved, now); err != nil {
		return nil, err
	}
	rid := req.ID
	g, err := grantAccess(ctx, tx, grantInput{
		resource: res, user: req.Requester, requestID: &rid, duration: req.Duration(),
		grantedBy: by, reason: req.Reason,
	}, now)
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
		return AppendAudit(ctx, tx, Event{At: now, Actor: by.Email, Action: "request.cancel", Target: requestTarget(req.ID),
			Details: map[string]any{"resource": req.Resource}})
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

// GetRequest reads one request with its decisions and grant.
func (s *Store) GetRequest(ctx context.Context, id int64) (*Request, error) {
	db := s.db.DB
	var req Request
	err := db.WithContext(ctx).Where("id = ?", id).Take(&req).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, noSuchRequest(id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading request %d: %w", id, err)
	}
	reqs := []*Request{&req}
	if err := loadRequestDetails(ctx, db, reqs); err != nil {
		return nil, err
	}
	return &req, nil
}

// RequestQuery selects requests for ListRequests.
type RequestQuery struct {
	// Status keeps only requests with this status; "" keeps all.
	Status string
	// All lists everybody's requests (admins). Otherwise only Requester's
	// requests and those for Resources are listed.
	All       bool
	Requester string
	Resources []string
	// Limit caps the answer (newest first); 0 means 500.
	Limit int
}

// ListRequests lists requests newest first, with their decisions and grants.
func (s *Store) ListRequests(ctx context.Context, q RequestQuery) ([]*Request, error) {
	db := s.db.DB
	if q.Limit <= 0 {
		q.Limit = 500
	}
	tx := db.WithContext(ctx).Model(&Request{})
	if !q.All {
		if len(q.Resources) > 0 {
			tx = tx.Where("requester = ? OR resource IN ?", q.Requester, q.Resources)
		} else {
			tx = tx.Where("requester = ?", q.Requester)
		}
	}
	if q.Status != "" {
		tx = tx.Where("status = ?", q.Status)
	}
	var rows []Request
	if err := tx.Order("created_at DESC, id DESC").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("listing requests: %w", err)
	}
	out := make([]*Request, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	if err := loadRequestDetails(ctx, db, out); err != nil {
		return nil, err
	}
	return out, nil
}

// loadRequestDetails fills the decisions and grants of reqs, two queries in
// all.
func loadRequestDetails(ctx context.Context, db *gorm.DB, reqs []*Request) error {
	if len(reqs) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(reqs))
	var grantIDs []int64
	byID := make(map[int64]*Request, len(reqs))
	for _, r := range reqs {
		ids = append(ids, r.ID)
		byID[r.ID] = r
		r.Decisions = nil
		if r.GrantID != nil {
			grantIDs = append(grantIDs, *r.GrantID)
		}
	}
	for chunk := range slices.Chunk(ids, 500) {
		var decisions []Approval
		if err := db.WithContext(ctx).Where("request_id IN ?", chunk).Order("at, id").Find(&decisions).Error; err != nil {
			return fmt.Errorf("reading decisions: %w", err)
		}
		for _, a := range decisions {
			byID[a.RequestID].Decisions = append(byID[a.RequestID].Decisions, a)
		}
	}
	grantsByID := map[int64]*Grant{}
	for chunk := range slices.Chunk(grantIDs, 500) {
		var gs []Grant
		if err := db.WithContext(ctx).Where("id IN ?", chunk).Find(&gs).Error; err != nil {
			return fmt.Errorf("reading grants: %w", err)
		}
		for i := range gs {
			grantsByID[gs[i].ID] = &gs[i]
		}
	}
	for _, r := range reqs {
		if r.GrantID != nil {
			r.Grant = grantsByID[*r.GrantID]
		}
	}
	return nil
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

// checkText trims a reason or comment and bounds its length.
func checkText(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxTextLen {
		return "", refuse(ErrInvalid, "the %s is too long (%d bytes; at most %d)", what, len(s), maxTextLen)
	}
	return s, nil
}

// inAuditedTx runs fn in a transaction that first takes the audit chain's
// lock (on PostgreSQL; SQLite transactions begin IMMEDIATE, which
// serializes them anyway). Taking it first gives every audited writer the
// same lock order — audit chain, then rows — so that they cannot deadlock.
func inAuditedTx(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := database.LockAuditChain(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// FormatDuration renders d as the catalog and the API write durations: a
// Go duration without useless zero units ("2h", "90m", "1h30m").
func FormatDuration(d time.Duration) string { return formatDuration(d) }

// dbTime is t as stored: UTC, microseconds (PostgreSQL's precision).
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func requestTarget(id int64) string { return fmt.Sprintf("request:%d", id) }

func grantTarget(id int64) string { return fmt.Sprintf("grant:%d", id) }

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

// quoteList renders group names for messages: "Security" or "SRE", "On-Call".
func quoteList(names []string) string {
	if len(names) == 0 {
		return "(nobody: no group is configured)"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
