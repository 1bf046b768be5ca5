package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/slack"
)

// slackCommand answers the /access slash command: file a request, open the
// request modal, list the caller's requests and grants. Every authentic
// command is answered 200 with an ephemeral line (or nothing, when a modal
// opened); refusals change nothing and are audited.
func (s *Server) slackCommand(c echo.Context) error {
	body, err := s.verifySlack(c)
	if err != nil {
		return err
	}
	cmd, err := slack.ParseCommand(body)
	var usage *slack.UsageError
	if errors.As(err, &usage) {
		return ephemeral(c, usage.Error())
	}
	if err != nil {
		return ephemeral(c, "The portal could not read that command. "+slack.Usage)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), slackDeadline)
	defer cancel()
	p, err := s.slackPerson(ctx, cmd.UserID)
	if err != nil {
		return ephemeral(c, s.slackRefusal(ctx, cmd.UserID, nil, "command", "slack:"+cmd.UserID, err))
	}
	var answer string
	switch cmd.Kind {
	case slack.CommandRequest:
		answer, err = s.slackFileRequest(ctx, p, grants.RequestInput{Resource: cmd.Resource, Duration: cmd.Duration, Reason: cmd.Reason})
	case slack.CommandModal:
		answer, err = s.slackRequestModal(ctx, p, cmd.TriggerID)
	case slack.CommandList:
		answer, err = s.slackList(ctx, p)
	default:
		answer = slack.Usage
	}
	if err != nil {
		return ephemeral(c, s.slackRefusal(ctx, cmd.UserID, p, "command", "slack:"+cmd.UserID, err))
	}
	if answer == "" {
		return c.NoContent(http.StatusOK)
	}
	return ephemeral(c, answer)
}

// slackFileRequest files a request as the API does and says its id and
// status.
func (s *Server) slackFileRequest(ctx context.Context, p *grants.Person, in grants.RequestInput) (string, error) {
	req, err := s.store.CreateRequest(ctx, s.opts.Catalog(), p, in, s.now())
	if err != nil {
		return "", err
	}
	s.wake()
	d := slack.FormatDuration(req.Duration())
	if req.Status == grants.RequestApproved {
		return fmt.Sprintf("Request %d for %s (%s) is approved: access starts as soon as the tailnet policy is updated.", req.ID, req.Resource, d), nil
	}
	return fmt.Sprintf("Request %d for %s (%s) is %s: its approvers have been asked.", req.ID, req.Resource, d, req.Status), nil
}

// slackRequestModal opens the request modal with the resources p may
// request; "" when it opened.
func (s *Server) slackRequestModal(ctx context.Context, p *grants.Person, trigger string) (string, error) {
	choices := resourceChoices(s.opts.Catalog(), p)
	if len(choices) == 0 {
		return "There is no resource you may request.", nil
	}
	if _, err := s.opts.Slack.Client.OpenView(ctx, trigger, slack.RequestModal(choices)); err != nil {
		return "", fmt.Errorf("opening the request modal: %w", err)
	}
	return "", nil
}

// slackList is p's pending requests and active grants on one line.
func (s *Server) slackList(ctx context.Context, p *grants.Person) (string, error) {
	reqs, _, err := s.store.RequestsOf(ctx, p.Email, grants.RequestPending, grants.Page{Size: 20})
	if err != nil {
		return "", err
	}
	gs, err := s.store.ActiveGrantsOf(ctx, []string{p.Email})
	if err != nil {
		return "", err
	}
	var pending []slack.RequestInfo
	for i := range reqs {
		pending = append(pending, grants.SlackRequestInfo(&reqs[i]))
	}
	var active []slack.GrantInfo
	for i := range gs {
		active = append(active, grants.SlackGrantInfo(&gs[i]))
	}
	return slack.ListText(pending, active), nil
}
