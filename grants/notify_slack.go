package grants

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	slackapp "github.com/accessportal/portal/sync/slack"
)

// slackOnly are the kinds only the Slack app announces; without it they are
// skipped.
var slackOnly = map[string]bool{NotifyRequestCancelled: true, NotifyGrantApplied: true, NotifyGrantEnded: true}

// notifyCancelled queues the update of a withdrawn request's messages.
func notifyCancelled(tx *gorm.DB, req *Request, now time.Time) error {
	return enqueue(tx, NotifyRequestCancelled, []string{req.Requester}, nil, map[string]any{
		"request": req.ID, "resource": req.Resource, "requester": req.Requester, "status": RequestCancelled,
	}, now, now)
}

// notifyGrantStamps queues the grantees' messages for grants just confirmed
// in the tailnet (applied) and grants whose removal was confirmed (ended).
func notifyGrantStamps(tx *gorm.DB, applied, removed []Grant, now time.Time) error {
	for kind, gs := range map[string][]Grant{NotifyGrantApplied: applied, NotifyGrantEnded: removed} {
		for _, g := range gs {
			err := enqueue(tx, kind, []string{g.UserEmail}, &g.ID, map[string]any{
				"grant": g.ID, "resource": g.Resource, "user": g.UserEmail, "expiresAt": g.ExpiresAt.UTC(),
			}, now, now)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// newSlackMetrics counts Slack deliveries by notification kind and result
// (sent, failed, rate_limited); both label sets are bounded.
func newSlackMetrics(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portal_slack_deliveries_total",
		Help: "Notification deliveries through the Slack app, by kind and result (sent, failed, rate_limited).",
	}, []string{"kind", "result"})
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}

func (n *Notifier) countSlack(kind string, err error) {
	result := "sent"
	if _, limited := slackapp.RetryAfter(err); limited {
		result = "rate_limited"
	} else if err != nil {
		result = "failed"
	}
	n.slackMessages.WithLabelValues(kind, result).Inc()
}

// sendSlack delivers one notification through the Slack app. A non-empty
// reason with a nil error means there was nothing to send. A delivery that
// fails half-way is retried; what it already posted is recorded and not
// posted again.
func (n *Notifier) sendSlack(ctx context.Context, note *Notification, to []string, d map[string]any) (string, error) {
	id := func(k string) int64 { f, _ := d[k].(float64); return int64(f) }
	switch note.Kind {
	case NotifyRequestPending:
		return n.slackRequestPending(ctx, note, id("request"), to)
	case NotifyRequestDecided, NotifyRequestCancelled:
		return "", n.slackRequestDecided(ctx, note, id("request"))
	case NotifyGrantApplied, NotifyGrantExpiring, NotifyGrantEnded:
		return n.slackGrantNews(ctx, note, id("grant"))
	case NotifyGrantRevoked:
		return "the Slack app announces the end of a grant once its removal is confirmed", nil
	}
	return "no Slack message for " + note.Kind, nil
}

// slackRequestPending posts a pending request to the channel with its
// approvers @-mentioned, or to each approver as a direct message.
func (n *Notifier) slackRequestPending(ctx context.Context, note *Notification, requestID int64, approvers []string) (string, error) {
	req, err := n.o.Store.GetRequest(ctx, requestID)
	if err != nil {
		return "", fmt.Errorf("reading request %d: %w", requestID, err)
	}
	if req.Status != RequestPending {
		return fmt.Sprintf("request %d was %s before it was announced", req.ID, req.Status), nil
	}
	ids, err := n.slackIDs(ctx, approvers)
	if err != nil {
		return "", err
	}
	info := n.requestInfo(ctx, req)
	rid := req.ID
	if n.o.SlackChannel != "" {
		return "", n.postOnce(ctx, note, n.o.SlackChannel, SlackMessage{RequestID: &rid}, slackapp.RequestMessage(info, ids), false)
	}
	if len(ids) == 0 {
		return "no approver of request " + strconv.FormatInt(req.ID, 10) + " has a Slack account", nil
	}
	for _, u := range ids {
		if err := n.postOnce(ctx, note, u, SlackMessage{RequestID: &rid}, slackapp.RequestMessage(info, nil), true); err != nil {
			return "", err
		}
	}
	return "", nil
}

// slackRequestDecided updates every message about a request to say how it
// ended and tells the requester (not for a cancellation: they did it).
func (n *Notifier) slackRequestDecided(ctx context.Context, note *Notification, requestID int64) error {
	req, err := n.o.Store.GetRequest(ctx, requestID)
	if err != nil {
		return fmt.Errorf("reading request %d: %w", requestID, err)
	}
	msgs, err := n.o.Store.RequestSlackMessages(ctx, req.ID)
	if err != nil {
		return err
	}
	info := n.requestInfo(ctx, req)
	decided := slackapp.DecisionMessage(info)
	for _, m := range msgs {
		if err := n.o.Slack.Update(ctx, m.Channel, m.TS, decided); err != nil {
			return err
		}
	}
	if req.Status == RequestCancelled {
		return nil
	}
	ids, err := n.slackIDs(ctx, []string{req.Requester})
	if err != nil || len(ids) == 0 {
		return err
	}
	return n.postOnce(ctx, note, ids[0], SlackMessage{GrantID: req.GrantID}, slackapp.DecidedMessage(info), true)
}

// slackGrantNews sends the grantee the message of a grant event: live in
// the tailnet, ending in ten minutes (with Extend), ended.
func (n *Notifier) slackGrantNews(ctx context.Context, note *Notification, grantID int64) (string, error) {
	g, err := n.o.Store.GetGrant(ctx, grantID)
	if err != nil {
		return "", fmt.Errorf("reading grant %d: %w", grantID, err)
	}
	ids, err := n.slackIDs(ctx, []string{g.UserEmail})
	if err != nil {
		return "", err
	}
	if len(ids) == 0 {
		return g.UserEmail + " has no Slack account", nil
	}
	info := SlackGrantInfo(g)
	var m slackapp.Message
	switch note.Kind {
	case NotifyGrantApplied:
		m = slackapp.AppliedMessage(info)
	case NotifyGrantExpiring:
		m = slackapp.ExpiryWarningMessage(info)
	default:
		m = slackapp.EndedMessage(info)
	}
	gid := g.ID
	return "", n.postOnce(ctx, note, ids[0], SlackMessage{GrantID: &gid}, m, true)
}

// postOnce posts m to target (a channel, or a person's DM when dm is set)
// unless this delivery already did, and records where it went.
func (n *Notifier) postOnce(ctx context.Context, note *Notification, target string, about SlackMessage, m slackapp.Message, dm bool) error {
	done, err := n.o.Store.slackPosted(ctx, note.ID, target)
	if err != nil || done {
		return err
	}
	post := n.o.Slack.Post
	if dm {
		post = n.o.Slack.PostDM
	}
	channel, ts, err := post(ctx, target, m)
	if err != nil {
		return err
	}
	about.NotificationID, about.Target, about.Channel, about.TS, about.CreatedAt = note.ID, target, channel, ts, n.o.Clock()
	return n.o.Store.recordSlackMessage(ctx, about)
}

// slackIDs maps emails to Slack user ids, leaving out people without a
// Slack account.
func (n *Notifier) slackIDs(ctx context.Context, emails []string) ([]string, error) {
	var ids []string
	for _, e := range emails {
		id, err := n.o.Slack.UserIDByEmail(ctx, e)
		if errors.Is(err, slackapp.ErrNoSlackUser) {
			slog.Info("no Slack account; not messaged", "email", e)
			continue
		}
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// slackID is a person's Slack id, or "" when unknown (they are then named
// by email).
func (n *Notifier) slackID(ctx context.Context, email string) string {
	if email == "" {
		return ""
	}
	id, err := n.o.Slack.UserIDByEmail(ctx, email)
	if err != nil {
		return ""
	}
	return id
}

// requestInfo is what Slack messages say about a request.
func (n *Notifier) requestInfo(ctx context.Context, req *Request) slackapp.RequestInfo {
	info := SlackRequestInfo(req)
	info.RequesterSlackID = n.slackID(ctx, req.Requester)
	if info.DecidedBy != "" && req.AutoApprovedRule == "" {
		info.DecidedBySlackID = n.slackID(ctx, info.DecidedBy)
	}
	return info
}

// SlackRequestInfo fills the Slack messages' view of a request: who decided
// (the last decision, or the rule that approved it at once), when, their
// comment and, once approved, the grant's length.
func SlackRequestInfo(req *Request) slackapp.RequestInfo {
	info := slackapp.RequestInfo{
		ID: req.ID, Resource: req.Resource, Requester: req.Requester, Duration: req.Duration(),
		Reason: req.Reason, CreatedAt: req.CreatedAt, Status: req.Status,
	}
	if req.ExtendsGrantID != nil {
		info.Extends = *req.ExtendsGrantID
	}
	if req.DecidedAt != nil {
		info.DecidedAt = *req.DecidedAt
	}
	if n := len(req.Decisions); n > 0 && req.Status != RequestExpired && req.Status != RequestCancelled {
		last := req.Decisions[n-1]
		info.DecidedBy, info.Comment = last.Approver, last.Comment
	}
	if req.AutoApprovedRule != "" {
		info.DecidedBy = req.AutoApprovedRule
	}
	if req.Status == RequestApproved {
		info.DecidedBy = cmp.Or(info.DecidedBy, "system")
		if g := req.Grant; g != nil && req.DecidedAt != nil {
			info.GrantedDuration = g.ExpiresAt.Sub(*req.DecidedAt).Round(time.Second)
		}
	}
	return info
}

// SlackGrantInfo is what Slack messages say about a grant.
func SlackGrantInfo(g *Grant) slackapp.GrantInfo {
	info := slackapp.GrantInfo{
		ID: g.ID, Resource: g.Resource, Group: g.GroupName, StartsAt: g.StartsAt, ExpiresAt: g.ExpiresAt,
		Status: g.Status, RevokedBy: g.RevokedBy, RevokeReason: g.RevokeReason,
	}
	if g.RequestID != nil {
		info.RequestID = *g.RequestID
	}
	return info
}
