package slack

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/accessportal/portal/grants/nesting"
)

// Action IDs of the buttons, callback IDs of the modals and block/action IDs
// of their inputs. They are the interface with Slack (CONTRACT.md, "Slack").
const (
	ActionApprove = "approve"
	ActionDeny    = "deny"
	ActionExtend  = "extend"

	CallbackApprove = "approve_request"
	CallbackDeny    = "deny_request"
	CallbackRequest = "request_access"
	CallbackExtend  = "extend_grant"

	InputDuration = "duration"
	InputComment  = "comment"
	InputResource = "resource"
	InputReason   = "reason"
)

// InteractionKind is what a person did in Slack.
type InteractionKind int

// Kinds of interaction.
const (
	// ClickApprove is the Approve button on a request message: open the
	// approve modal for RequestID.
	ClickApprove InteractionKind = iota + 1
	// ClickDeny is the Deny button: open the deny modal for RequestID.
	ClickDeny
	// ClickExtend is the Extend button in the expiry warning: open the
	// extend modal for GrantID.
	ClickExtend
	// SubmitApprove is the approve modal submitted: approve RequestID for
	// Duration (0: as requested) with Comment.
	SubmitApprove
	// SubmitDeny is the deny modal submitted: deny RequestID with Comment.
	SubmitDeny
	// SubmitRequest is the request modal submitted: request Resource for
	// Duration with Reason.
	SubmitRequest
	// SubmitExtend is the extend modal submitted: extend GrantID by
	// Duration with Reason (POST /api/v1/grants/{id}/extend).
	SubmitExtend
	// Closed is a modal closed without submitting, or an interaction the
	// portal has no use for; it is answered 200 and ignored.
	Closed
)

// Interaction is a parsed interaction payload (block_actions or
// view_submission; see "Handling user interaction" and the
// interaction-payloads reference).
type Interaction struct {
	Kind InteractionKind
	// UserID is the Slack user who clicked or submitted.
	UserID string
	// TeamID is their workspace.
	TeamID string
	// TriggerID opens a modal (valid 3 seconds, once).
	TriggerID string
	// ResponseURL answers a button click (block_actions from a message).
	ResponseURL string
	// Channel and MessageTS identify the message whose button was clicked.
	Channel, MessageTS string
	// ViewID is the submitted modal.
	ViewID string

	// RequestID is set for the approve/deny clicks and submissions.
	RequestID int64
	// GrantID is set for ClickExtend and SubmitExtend.
	GrantID int64
	// Duration is the chosen duration (SubmitApprove, SubmitRequest); 0
	// when none was chosen.
	Duration time.Duration
	// Comment is the approver's comment.
	Comment string
	// Resource is set for SubmitRequest; Reason for SubmitRequest and
	// SubmitExtend.
	Resource, Reason string
}

// ParseInteraction parses the body of a verified request to the
// interactivity URL: a form with one field, payload, holding JSON.
func ParseInteraction(body []byte) (Interaction, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return Interaction{}, fmt.Errorf("parsing interaction form: %w", err)
	}
	payload := form.Get("payload")
	if payload == "" {
		return Interaction{}, fmt.Errorf("parsing interaction: no payload field")
	}
	var cb slack.InteractionCallback
	if err := nesting.Check([]byte(payload), nesting.Max); err != nil {
		return Interaction{}, fmt.Errorf("parsing interaction payload: %w", err)
	}
	if err := json.Unmarshal([]byte(payload), &cb); err != nil {
		return Interaction{}, fmt.Errorf("parsing interaction payload: %w", err)
	}
	in := Interaction{UserID: cb.User.ID, TeamID: cb.Team.ID, TriggerID: cb.TriggerID, ResponseURL: cb.ResponseURL}
	if in.UserID == "" {
		return Interaction{}, fmt.Errorf("parsing interaction: no user")
	}
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		err = in.parseBlockActions(cb)
	case slack.InteractionTypeViewSubmission:
		err = in.parseSubmission(cb)
	default:
		in.Kind = Closed
	}
	return in, err
}

func (in *Interaction) parseBlockActions(cb slack.InteractionCallback) error {
	in.Channel, in.MessageTS = cb.Container.ChannelID, cb.Container.MessageTs
	if in.Channel == "" {
		in.Channel = cb.Channel.ID
	}
	if in.MessageTS == "" {
		in.MessageTS = cb.Message.Timestamp
	}
	in.Kind = Closed
	if len(cb.ActionCallback.BlockActions) == 0 {
		return nil
	}
	a := cb.ActionCallback.BlockActions[0]
	id, err := parseID(a.Value)
	switch a.ActionID {
	case ActionApprove:
		in.Kind, in.RequestID = ClickApprove, id
	case ActionDeny:
		in.Kind, in.RequestID = ClickDeny, id
	case ActionExtend:
		in.Kind, in.GrantID = ClickExtend, id
	default:
		return nil // selects inside modals, links: nothing to do
	}
	if err != nil {
		return fmt.Errorf("parsing %s button: %w", a.ActionID, err)
	}
	return nil
}

func (in *Interaction) parseSubmission(cb slack.InteractionCallback) error {
	v := cb.View
	in.ViewID = v.ID
	values := map[string]map[string]slack.BlockAction{}
	if v.State != nil {
		values = v.State.Values
	}
	in.Comment = strings.TrimSpace(values[InputComment][InputComment].Value)
	var err error
	switch v.CallbackID {
	case CallbackApprove:
		in.Kind = SubmitApprove
		if in.RequestID, err = parseID(v.PrivateMetadata); err != nil {
			return fmt.Errorf("parsing approve modal: %w", err)
		}
		return in.parseDurationInput(values)
	case CallbackDeny:
		in.Kind = SubmitDeny
		if in.RequestID, err = parseID(v.PrivateMetadata); err != nil {
			return fmt.Errorf("parsing deny modal: %w", err)
		}
	case CallbackRequest:
		in.Kind = SubmitRequest
		in.Resource = values[InputResource][InputResource].SelectedOption.Value
		in.Reason = strings.TrimSpace(values[InputReason][InputReason].Value)
		return in.parseDurationInput(values)
	case CallbackExtend:
		in.Kind = SubmitExtend
		if in.GrantID, err = parseID(v.PrivateMetadata); err != nil {
			return fmt.Errorf("parsing extend modal: %w", err)
		}
		in.Reason = strings.TrimSpace(values[InputReason][InputReason].Value)
		return in.parseDurationInput(values)
	default:
		in.Kind = Closed
	}
	return nil
}

func (in *Interaction) parseDurationInput(values map[string]map[string]slack.BlockAction) error {
	s := values[InputDuration][InputDuration].SelectedOption.Value
	if s == "" {
		return nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("parsing duration input: %w", err)
	}
	in.Duration = d
	return nil
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not an id", s)
	}
	return id, nil
}
