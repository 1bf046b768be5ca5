package main

import (
	"bytes"
	"encoding/json"
	"time"
)

// The API's shapes, as CONTRACT.md gives them. Only what the CLI shows is
// decoded; --json prints the API's own bytes, so fields added later reach
// scripts unchanged.

// me is the answer of GET /api/v1/me.
type me struct {
	Email  string   `json:"email"`
	Name   string   `json:"name"`
	Admin  bool     `json:"admin"`
	Groups []string `json:"groups"`
}

// resource is one element of GET /api/v1/resources.
type resource struct {
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	Group           string   `json:"group"`
	MaxDuration     jsonText `json:"maxDuration"`
	DefaultDuration jsonText `json:"defaultDuration"`
	RequireReason   bool     `json:"requireReason"`
	// Eligible are the Okta groups that may request; empty = anyone.
	Eligible []string `json:"eligible"`
	// CanRequest says whether the caller may request it (the portal adds it
	// to CONTRACT.md's shape; nil when absent).
	CanRequest *bool `json:"canRequest"`
}

// accessRequest is a Request of the API.
type accessRequest struct {
	ID        jsonText   `json:"id"`
	Resource  string     `json:"resource"`
	Requester string     `json:"requester"`
	Duration  jsonText   `json:"duration"`
	Reason    string     `json:"reason"`
	Status    string     `json:"status"`
	Approvals []approval `json:"approvals"`
	// Denial is the decision that denied the request; the portal adds it to
	// CONTRACT.md's shape.
	Denial *approval `json:"denial"`
	Grant  *grant    `json:"grant"`
	// Extends is the grant an extension request extends; "" otherwise.
	Extends   jsonText   `json:"extends"`
	CreatedAt *time.Time `json:"createdAt"`
	DecidedAt *time.Time `json:"decidedAt"`
}

// approval is one approver's decision on a request.
type approval struct {
	By      string     `json:"by"`
	At      *time.Time `json:"at"`
	Comment string     `json:"comment"`
}

// grant is a Grant of the API.
type grant struct {
	ID           jsonText   `json:"id"`
	RequestID    jsonText   `json:"requestId"`
	Resource     string     `json:"resource"`
	User         string     `json:"user"`
	Group        string     `json:"group"`
	StartsAt     *time.Time `json:"startsAt"`
	ExpiresAt    *time.Time `json:"expiresAt"`
	Status       string     `json:"status"`
	AppliedAt    *time.Time `json:"appliedAt"`
	RemovedAt    *time.Time `json:"removedAt"`
	RevokedBy    string     `json:"revokedBy"`
	RevokeReason string     `json:"revokeReason"`
}

// Request and grant statuses.
const (
	statusPending   = "pending"
	statusApproved  = "approved"
	statusDenied    = "denied"
	statusCancelled = "cancelled"
	statusExpired   = "expired"
	grantActive     = "active"
)

// jsonText is a JSON scalar shown as text: ids may be numbers or strings,
// durations strings or numbers; null is "".
type jsonText string

func (t *jsonText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = jsonText(s)
	default:
		*t = jsonText(b)
	}
	return nil
}

func (t jsonText) String() string { return string(t) }
