package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/slack"
)

// SlackApp is the portal's Slack app: POST /slack/commands and
// /slack/interactions are verified with Verifier and act through Client.
type SlackApp struct {
	Client   *slack.Client
	Verifier slack.Verifier
}

// slackDeadline bounds the Slack and database calls made before answering:
// Slack gives an app three seconds.
const slackDeadline = 2500 * time.Millisecond

// verifySlack reads an authentic request's body; anything else is 401 and
// changes nothing.
func (s *Server) verifySlack(c echo.Context) ([]byte, error) {
	if s.opts.Slack == nil {
		return nil, httpError(http.StatusNotFound, "the Slack app is not configured")
	}
	body, err := s.opts.Slack.Verifier.Verify(c.Request())
	if err != nil {
		slog.Warn("refused a Slack request", "path", c.Path(), "err", err)
		return nil, httpError(http.StatusUnauthorized, "not a verified Slack request")
	}
	return body, nil
}

// slackPerson maps a Slack user to the person the API would see: their
// profile email (users.info) and the Okta directory. Unknown and departed
// people are refused with the API's words.
func (s *Server) slackPerson(ctx context.Context, slackUser string) (*grants.Person, error) {
	email, err := s.opts.Slack.Client.UserEmail(ctx, slackUser)
	if errors.Is(err, slack.ErrNoEmail) {
		return nil, httpError(http.StatusForbidden, "your Slack account has no email the portal can match to an Okta user")
	}
	if err != nil {
		return nil, httpError(http.StatusServiceUnavailable, "Slack could not say who you are; try again")
	}
	p, err := s.store.LookupPerson(ctx, email)
	if errors.Is(err, grants.ErrUnknownPerson) {
		return nil, httpError(http.StatusForbidden, email+" is not a user of the Okta directory")
	}
	if err != nil {
		return nil, err
	}
	if !p.Active() {
		return nil, httpError(http.StatusForbidden, email+" is "+p.Status+" in Okta")
	}
	return p, nil
}

// slackRefusal is the one line a Slack user is shown for err, and the
// audit event saying what they were refused (with their Slack user id).
func (s *Server) slackRefusal(ctx context.Context, slackUser string, p *grants.Person, action string, target string, err error) string {
	code, msg, known := statusOf(err)
	if !known || code >= http.StatusInternalServerError && code != http.StatusServiceUnavailable {
		slog.Error("Slack action failed", "slack_user", slackUser, "action", action, "err", err)
	}
	actor := "slack:" + slackUser
	if p != nil {
		actor = p.Email
	}
	aerr := s.store.AppendAudit(context.WithoutCancel(ctx), grants.Event{At: s.now(), Actor: actor, Action: "slack.refuse", Target: target,
		Details: map[string]any{"slackUser": slackUser, "action": action, "reason": msg}})
	if aerr != nil {
		slog.Error("auditing a Slack refusal", "err", aerr)
	}
	return msg
}

// auditSlackAction records that a person acted through Slack, with their
// Slack user id (the action itself has its own audit event).
func (s *Server) auditSlackAction(ctx context.Context, slackUser string, p *grants.Person, action, target string) {
	err := s.store.AppendAudit(context.WithoutCancel(ctx), grants.Event{At: s.now(), Actor: p.Email, Action: "slack.action", Target: target,
		Details: map[string]any{"slackUser": slackUser, "action": action}})
	if err != nil {
		slog.Error("auditing a Slack action", "err", err)
	}
}

// ephemeral answers a slash command with a line only its author sees.
func ephemeral(c echo.Context, text string) error {
	return c.JSON(http.StatusOK, slack.EphemeralText(text))
}

// resourceChoices are the resources p may request now, for the request
// modal.
func resourceChoices(cat *grants.Catalog, p *grants.Person) []slack.ResourceChoice {
	var out []slack.ResourceChoice
	for _, name := range cat.ResourceNames() {
		r := cat.Resources[name]
		if r.Retired || !r.MayRequest(p) {
			continue
		}
		out = append(out, slack.ResourceChoice{Name: r.Name, Description: r.Description, MaxDuration: r.MaxDuration,
			DefaultDuration: r.DefaultDuration, RequireReason: r.RequireReason})
	}
	return out
}
