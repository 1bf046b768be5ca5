package slack

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Request statuses, as in the JSON API.
const (
	StatusPending   = "pending"
	StatusApproved  = "approved"
	StatusDenied    = "denied"
	StatusCancelled = "cancelled"
	StatusExpired   = "expired"
)

// RequestInfo is what the messages say about an access request. The
// application fills it from its own request.
type RequestInfo struct {
	ID       int64
	Resource string
	// Requester is the requester's email; RequesterSlackID their Slack user
	// id when known (then they are @-mentioned).
	Requester        string
	RequesterSlackID string
	Duration         time.Duration
	Reason           string
	CreatedAt        time.Time
	// Status is one of the Status constants.
	Status string
	// DecidedBy is who decided (email, or a rule for auto-approval);
	// DecidedBySlackID their Slack user id when known. Empty while pending
	// and for expiry.
	DecidedBy        string
	DecidedBySlackID string
	DecidedAt        time.Time
	// Comment is the decider's comment.
	Comment string
	// GrantedDuration is the approved grant's length when an approver set
	// a shorter one.
	GrantedDuration time.Duration
	// Extends is the grant an extension request extends (0: none).
	Extends int64
}

// GrantInfo is what the direct messages say about a grant.
type GrantInfo struct {
	ID        int64
	RequestID int64
	Resource  string
	Group     string
	StartsAt  time.Time
	ExpiresAt time.Time
	// Status is active, expired or revoked.
	Status string
	// RevokedBy and RevokeReason are set for a revoked grant.
	RevokedBy, RevokeReason string
}

// ResourceChoice is a resource the person may request, for the request
// modal.
type ResourceChoice struct {
	Name            string
	Description     string
	MaxDuration     time.Duration
	DefaultDuration time.Duration
	RequireReason   bool
}

// Message is a message to post: Text is the notification and fallback text
// Slack requires beside blocks; Blocks is the Block Kit layout.
type Message struct {
	Text   string
	Blocks []slack.Block
}

// Ephemeral is the one-line answer to a slash command or a click, seen only
// by the person (the HTTP answer's body, or a post to response_url).
type Ephemeral struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

// EphemeralText returns an ephemeral answer with text on one line.
func EphemeralText(text string) Ephemeral {
	return Ephemeral{ResponseType: "ephemeral", Text: oneLine(text)}
}

// ViewErrors is the answer to a view_submission that keeps the modal open
// with an error under each named input block
// (https://api.slack.com/surfaces/modals#displaying_errors).
type ViewErrors struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}

// NewViewErrors returns the answer showing errors (block_id → message).
func NewViewErrors(errs map[string]string) ViewErrors {
	return ViewErrors{ResponseAction: "errors", Errors: errs}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

// Mention renders a person: <@U…> when their Slack id is known, their email
// otherwise.
func Mention(slackID, email string) string {
	if slackID != "" {
		return "<@" + slackID + ">"
	}
	return escape(email)
}

// escape replaces the three characters Slack's mrkdwn reserves
// (https://api.slack.com/reference/surfaces/formatting#escaping).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// date renders t with Slack's date formatting, which each reader sees in
// their own time zone; the fallback is UTC.
func date(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func requestFields(r RequestInfo) []*slack.TextBlockObject {
	reason := r.Reason
	if reason == "" {
		reason = "_none given_"
	}
	fields := []*slack.TextBlockObject{
		mrkdwn("*Requester*\n" + Mention(r.RequesterSlackID, r.Requester)),
		mrkdwn("*Resource*\n`" + escape(r.Resource) + "`"),
		mrkdwn("*Duration*\n" + FormatDuration(r.Duration)),
		mrkdwn("*Requested*\n" + date(r.CreatedAt)),
		mrkdwn("*Reason*\n" + escape(reason)),
	}
	if r.Extends != 0 {
		fields = append(fields, mrkdwn(fmt.Sprintf("*Extends*\ngrant %d", r.Extends)))
	}
	return fields
}

// RequestMessage is the message to approvers about a pending request:
// who asks for what, how long and why, the approvers @-mentioned, and the
// Approve and Deny buttons whose value is the request id. Every message
// about a request gets its own block ids so chat.update replaces them.
func RequestMessage(r RequestInfo, approverSlackIDs []string) Message {
	id := strconv.FormatInt(r.ID, 10)
	mentions := make([]string, 0, len(approverSlackIDs))
	for _, u := range approverSlackIDs {
		mentions = append(mentions, Mention(u, ""))
	}
	head := fmt.Sprintf("*Access request %d* needs a decision", r.ID)
	if len(mentions) > 0 {
		head += " from " + strings.Join(mentions, " ")
	}
	approve := slack.NewButtonBlockElement(ActionApprove, id, plain("Approve"))
	approve.Style = slack.StylePrimary
	deny := slack.NewButtonBlockElement(ActionDeny, id, plain("Deny"))
	deny.Style = slack.StyleDanger
	return Message{
		Text: fmt.Sprintf("%s requests %s for %s", r.Requester, r.Resource, FormatDuration(r.Duration)),
		Blocks: []slack.Block{
			slack.NewSectionBlock(mrkdwn(head), nil, nil, slack.SectionBlockOptionBlockID("request-"+id)),
			slack.NewSectionBlock(nil, requestFields(r), nil, slack.SectionBlockOptionBlockID("request-"+id+"-fields")),
			slack.NewActionBlock("request-"+id+"-actions", approve, deny),
		},
	}
}

// outcome is how a decided request is described: "approved by <@U1> on …".
func outcome(r RequestInfo) string {
	by := Mention(r.DecidedBySlackID, r.DecidedBy)
	when := ""
	if !r.DecidedAt.IsZero() {
		when = " on " + date(r.DecidedAt)
	}
	switch r.Status {
	case StatusApproved:
		s := ":white_check_mark: Approved"
		if by != "" {
			s += " by " + by
		}
		if r.GrantedDuration > 0 && r.GrantedDuration != r.Duration {
			s += " for " + FormatDuration(r.GrantedDuration)
		}
		return s + when
	case StatusDenied:
		return ":no_entry: Denied by " + by + when
	case StatusCancelled:
		return ":heavy_multiplication_x: Cancelled by the requester" + when
	case StatusExpired:
		return ":hourglass: Expired without a decision" + when
	}
	return "Pending"
}

// DecisionMessage is the request message after a decision (or expiry or
// cancellation): the same details, who decided, how and when, and no
// buttons. It replaces every RequestMessage with chat.update.
func DecisionMessage(r RequestInfo) Message {
	id := strconv.FormatInt(r.ID, 10)
	text := outcome(r)
	if r.Comment != "" {
		text += "\n>" + escape(oneLine(r.Comment))
	}
	return Message{
		Text: fmt.Sprintf("Access request %d for %s: %s", r.ID, r.Resource, r.Status),
		Blocks: []slack.Block{
			slack.NewSectionBlock(mrkdwn(fmt.Sprintf("*Access request %d* is %s", r.ID, r.Status)), nil, nil, slack.SectionBlockOptionBlockID("decided-"+id)),
			slack.NewSectionBlock(nil, requestFields(r), nil, slack.SectionBlockOptionBlockID("decided-"+id+"-fields")),
			slack.NewContextBlock("decided-"+id+"-outcome", mrkdwn(text)),
		},
	}
}

// standardDurations are the choices offered besides the requested and
// maximum durations.
var standardDurations = []time.Duration{
	15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour,
	12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 72 * time.Hour, 7 * 24 * time.Hour,
}

// DurationChoices are the durations offered up to max: the standard ones,
// the given extra ones (such as the requested duration) and max itself,
// sorted, without repeats. A static select shows at most 100 options.
func DurationChoices(max time.Duration, extra ...time.Duration) []time.Duration {
	var out []time.Duration
	for _, d := range slices.Concat(standardDurations, extra, []time.Duration{max}) {
		if d > 0 && d <= max {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 100 {
		out = out[len(out)-100:]
	}
	return out
}

func durationOption(d time.Duration) *slack.OptionBlockObject {
	s := FormatDuration(d)
	return slack.NewOptionBlockObject(s, plain(s), nil)
}

func durationSelect(choices []time.Duration, initial time.Duration) *slack.SelectBlockElement {
	opts := make([]*slack.OptionBlockObject, 0, len(choices))
	for _, d := range choices {
		opts = append(opts, durationOption(d))
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Duration"), InputDuration, opts...)
	if slices.Contains(choices, initial) {
		sel.InitialOption = durationOption(initial)
	}
	return sel
}

func commentInput(optional bool, placeholder string) *slack.InputBlock {
	in := slack.NewPlainTextInputBlockElement(plain(placeholder), InputComment)
	in.Multiline = true
	in.MaxLength = 2000
	block := slack.NewInputBlock(InputComment, plain("Comment"), nil, in)
	block.Optional = optional
	return block
}

// ApproveModal is the modal the Approve button opens (callback_id
// approve_request, private_metadata the request id): a duration select up
// to maxDuration with the requested duration (capped at maxDuration)
// selected, and an optional comment.
func ApproveModal(r RequestInfo, maxDuration time.Duration) slack.ModalViewRequest {
	requested := min(r.Duration, maxDuration)
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackApprove,
		PrivateMetadata: strconv.FormatInt(r.ID, 10),
		Title:           plain("Approve access"),
		Submit:          plain("Approve"),
		Close:           plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(nil, requestFields(r), nil),
			slack.NewInputBlock(InputDuration, plain("Grant for"),
				plain("Up to "+FormatDuration(maxDuration)+"; the clock starts when the request is approved."),
				durationSelect(DurationChoices(maxDuration, requested), requested)),
			commentInput(true, "Anything the requester should know"),
		}},
	}
}

// DenyModal is the modal the Deny button opens (callback_id deny_request,
// private_metadata the request id) asking for a comment.
func DenyModal(r RequestInfo) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackDeny,
		PrivateMetadata: strconv.FormatInt(r.ID, 10),
		Title:           plain("Deny access"),
		Submit:          plain("Deny"),
		Close:           plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(nil, requestFields(r), nil),
			commentInput(false, "Why is it denied?"),
		}},
	}
}

func reasonInput(optional bool, hint string) *slack.InputBlock {
	in := slack.NewPlainTextInputBlockElement(plain("e.g. investigating INC-42"), InputReason)
	in.Multiline = true
	in.MaxLength = 2000
	block := slack.NewInputBlock(InputReason, plain("Reason"), plain(hint), in)
	block.Optional = optional
	return block
}

// ExtendModal is the modal the Extend button opens (callback_id
// extend_grant, private_metadata the grant id): how much longer, up to the
// resource's maximum (the resource's default selected), and a reason,
// required when the resource requires one. Submitting files an extension
// request, approved like a new one.
func ExtendModal(g GrantInfo, res ResourceChoice) slack.ModalViewRequest {
	initial := cmp.Or(min(res.DefaultDuration, res.MaxDuration), res.MaxDuration)
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackExtend,
		PrivateMetadata: strconv.FormatInt(g.ID, 10),
		Title:           plain("Extend access"),
		Submit:          plain("Request"),
		Close:           plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn(fmt.Sprintf("Grant %d for `%s` ends %s.", g.ID, escape(g.Resource), date(g.ExpiresAt))), nil, nil),
			slack.NewInputBlock(InputDuration, plain("Extend for"),
				plain("From the approval, up to "+FormatDuration(res.MaxDuration)+"."),
				durationSelect(DurationChoices(res.MaxDuration, initial), initial)),
			reasonInput(!res.RequireReason, "Why you need longer."),
		}},
	}
}

// RequestModal is the modal `/access` opens (callback_id request_access):
// the resources the person may request, durations up to the largest
// maximum (each resource's own maximum is in the hint and checked by
// [CheckRequestSubmission]), and a reason, required when every choice
// requires one. choices must not be empty (Slack refuses a select without
// options): answer someone who may request nothing with an ephemeral line.
func RequestModal(choices []ResourceChoice) slack.ModalViewRequest {
	var opts []*slack.OptionBlockObject
	var longest, initial time.Duration
	var limits, needReason []string
	for _, c := range choices {
		var desc *slack.TextBlockObject
		if c.Description != "" {
			desc = plain(truncate(c.Description, 75))
		}
		opts = append(opts, slack.NewOptionBlockObject(c.Name, plain(truncate(c.Name, 75)), desc))
		longest = max(longest, c.MaxDuration)
		initial = cmp.Or(initial, c.DefaultDuration)
		limits = append(limits, c.Name+" up to "+FormatDuration(c.MaxDuration))
		if c.RequireReason {
			needReason = append(needReason, c.Name)
		}
	}
	resource := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Resource"), InputResource, opts...)
	if len(opts) == 1 {
		resource.InitialOption = opts[0]
	}
	reasonHint := "Why you need access."
	if len(needReason) > 0 {
		reasonHint += " Required for " + strings.Join(needReason, ", ") + "."
	}
	reasonBlock := reasonInput(len(needReason) < len(choices), reasonHint)
	return slack.ModalViewRequest{
		Type:       slack.VTModal,
		CallbackID: CallbackRequest,
		Title:      plain("Request access"),
		Submit:     plain("Request"),
		Close:      plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(InputResource, plain("Resource"), nil, resource),
			slack.NewInputBlock(InputDuration, plain("Duration"), plain(truncate(strings.Join(limits, "; "), 150)),
				durationSelect(DurationChoices(longest, initial), initial)),
			reasonBlock,
		}},
	}
}

// CheckRequestSubmission checks a submitted request modal against the
// choices it offered and returns the errors to show (block_id → message),
// or nil. The portal still applies every rule when it files the request.
func CheckRequestSubmission(in Interaction, choices []ResourceChoice) map[string]string {
	i := slices.IndexFunc(choices, func(c ResourceChoice) bool { return c.Name == in.Resource })
	if i < 0 {
		return map[string]string{InputResource: "Pick a resource you may request."}
	}
	c, errs := choices[i], map[string]string{}
	if in.Duration > c.MaxDuration {
		errs[InputDuration] = fmt.Sprintf("%s may be granted for at most %s.", c.Name, FormatDuration(c.MaxDuration))
	}
	if c.RequireReason && in.Reason == "" {
		errs[InputReason] = fmt.Sprintf("%s requires a reason: say why you need access", c.Name)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func dm(text string, blocks ...slack.Block) Message {
	return Message{Text: text, Blocks: append([]slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)}, blocks...)}
}

// DecidedMessage is the requester's direct message when their request was
// decided (approved, denied, or expired without a decision).
func DecidedMessage(r RequestInfo) Message {
	text := fmt.Sprintf("Your request %d for `%s`: %s", r.ID, escape(r.Resource), outcome(r))
	if r.Status == StatusApproved {
		text += ". Access starts as soon as the tailnet policy is updated."
	}
	if r.Comment != "" {
		text += "\n>" + escape(oneLine(r.Comment))
	}
	return dm(text)
}

// AppliedMessage is the requester's direct message once the tailnet policy
// is confirmed to give them the grant.
func AppliedMessage(g GrantInfo) Message {
	return dm(fmt.Sprintf(":unlock: Your access to `%s` is live in the tailnet (grant %d) until %s.",
		escape(g.Resource), g.ID, date(g.ExpiresAt)))
}

// ExpiryWarningMessage is the requester's direct message ten minutes
// before the grant expires, with an Extend button (action_id extend, value
// the grant id).
func ExpiryWarningMessage(g GrantInfo) Message {
	id := strconv.FormatInt(g.ID, 10)
	extend := slack.NewButtonBlockElement(ActionExtend, id, plain("Extend"))
	return dm(fmt.Sprintf(":hourglass_flowing_sand: Your access to `%s` (grant %d) ends %s.", escape(g.Resource), g.ID, date(g.ExpiresAt)),
		slack.NewActionBlock("grant-"+id+"-actions", extend))
}

// EndedMessage is the requester's direct message once a grant has ended
// (expired or revoked) and the tailnet no longer gives access.
func EndedMessage(g GrantInfo) Message {
	how := "expired"
	if g.Status == "revoked" {
		how = "was revoked"
		if g.RevokedBy != "" {
			how += " by " + escape(g.RevokedBy)
		}
		if g.RevokeReason != "" {
			how += ": " + escape(oneLine(g.RevokeReason))
		}
	}
	return dm(fmt.Sprintf(":lock: Your access to `%s` (grant %d) %s.", escape(g.Resource), g.ID, how))
}

// ListText is the one-line answer to `/access list`.
func ListText(pending []RequestInfo, active []GrantInfo) string {
	if len(pending) == 0 && len(active) == 0 {
		return "You have no pending requests and no active grants."
	}
	var parts []string
	for _, r := range pending {
		parts = append(parts, fmt.Sprintf("request %d for %s (%s) pending", r.ID, r.Resource, FormatDuration(r.Duration)))
	}
	for _, g := range active {
		parts = append(parts, fmt.Sprintf("grant %d for %s until %s", g.ID, g.Resource, g.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")))
	}
	return strings.Join(parts, "; ") + "."
}
