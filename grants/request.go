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
