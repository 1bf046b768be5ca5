package grants

import (
	"encoding/json"
	"time"
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
	// AutoApprovedRule names the rule that approved the request at once
	// ("autoApprove: On-Call", "onCall: pagerduty PABC123"); "" otherwise.
	AutoApprovedRule string
	// PendingReason says why a pending request waits for approvers when a
	// rule could not decide it (e.g. PagerDuty could not be asked).
	PendingReason string
	// ExtendsGrantID is the grant this request extends, if any.
	ExtendsGrantID *int64

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
	// DurationSeconds is the grant length the approver set, if any.
	DurationSeconds *int64
}

// decisionJSON is one decision as the API shows it.
type decisionJSON struct {
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Comment  string    `json:"comment"`
	Duration *string   `json:"duration"`
}

// autoApprovedJSON names the rule that approved a request at once.
type autoApprovedJSON struct {
	Rule string `json:"rule"`
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
	// AutoApproved, PendingReason and Extends are CONTRACT.md's.
	AutoApproved  *autoApprovedJSON `json:"autoApproved"`
	PendingReason *string           `json:"pendingReason"`
	Extends       *int64            `json:"extends"`
}

// MarshalJSON renders the request in the API's shape: duration as a Go
// duration ("2h", "90m"), times in UTC, "approvals" holding the approving
// decisions only.
func (r Request) MarshalJSON() ([]byte, error) {
	out := requestJSON{
		ID: r.ID, Resource: r.Resource, Requester: r.Requester, Duration: formatDuration(r.Duration()),
		Reason: r.Reason, Status: r.Status, Approvals: []decisionJSON{}, Grant: r.Grant,
		CreatedAt: r.CreatedAt.UTC(), DecidedAt: utcPtr(r.DecidedAt), Extends: r.ExtendsGrantID,
	}
	if r.AutoApprovedRule != "" {
		out.AutoApproved = &autoApprovedJSON{Rule: r.AutoApprovedRule}
	}
	if r.PendingReason != "" && r.Status == RequestPending {
		out.PendingReason = &r.PendingReason
	}
	for _, a := range r.Decisions {
		d := decisionJSON{By: a.Approver, At: a.At.UTC(), Comment: a.Comment}
		if a.DurationSeconds != nil {
			s := formatDuration(time.Duration(*a.DurationSeconds) * time.Second)
			d.Duration = &s
		}
		if a.Decision == DecisionDeny {
			out.Denial = &d
			continue
		}
		out.Approvals = append(out.Approvals, d)
	}
	return json.Marshal(out)
}
