package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/slack"
)

// slackInteraction answers buttons and modal submissions. A click opens a
// modal, or is refused on the click's response_url (Slack ignores the body
// of the answer to a click); a submission decides or files exactly as the
// API does, and a refusal keeps the modal open with the API's words. Every
// authentic interaction is answered 200.
func (s *Server) slackInteraction(c echo.Context) error {
	body, err := s.verifySlack(c)
	if err != nil {
		return err
	}
	in, err := slack.ParseInteraction(body)
	if err != nil {
		slog.Warn("unreadable Slack interaction", "err", err)
		return c.NoContent(http.StatusOK)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), slackDeadline)
	defer cancel()
	switch in.Kind {
	case slack.ClickApprove, slack.ClickDeny, slack.ClickExtend:
		s.slackClick(ctx, in)
		return c.NoContent(http.StatusOK)
	case slack.SubmitApprove, slack.SubmitDeny, slack.SubmitRequest, slack.SubmitExtend:
		if errs := s.slackSubmit(ctx, in); len(errs) > 0 {
			return c.JSON(http.StatusOK, slack.NewViewErrors(errs))
		}
	}
	return c.NoContent(http.StatusOK)
}

// slackClick opens the modal a button asks for, after the checks the
// decision itself will make; a refusal goes to the click's response_url.
func (s *Server) slackClick(ctx context.Context, in slack.Interaction) {
	target := fmt.Sprintf("request:%d", in.RequestID)
	if in.Kind == slack.ClickExtend {
		target = fmt.Sprintf("grant:%d", in.GrantID)
	}
	p, err := s.slackPerson(ctx, in.UserID)
	if err == nil {
		err = s.openDecisionModal(ctx, in, p)
	}
	if err == nil {
		return
	}
	line := s.slackRefusal(ctx, in.UserID, p, clickAction(in.Kind), target, err)
	if rerr := s.opts.Slack.Client.Respond(ctx, in.ResponseURL, line); rerr != nil {
		slog.Warn("answering a Slack click", "err", rerr)
	}
}

func clickAction(k slack.InteractionKind) string {
	switch k {
	case slack.ClickApprove:
		return "approve"
	case slack.ClickDeny:
		return "deny"
	}
	return "extend"
}

func (s *Server) openDecisionModal(ctx context.Context, in slack.Interaction, p *grants.Person) error {
	if in.Kind == slack.ClickExtend {
		return s.openExtendModal(ctx, in, p)
	}
	cat := s.opts.Catalog()
	req, err := s.store.GetRequest(ctx, in.RequestID)
	if err != nil {
		return err
	}
	decision := grants.DecisionApprove
	if in.Kind == slack.ClickDeny {
		decision = grants.DecisionDeny
	}
	if err := cat.MayDecide(p, req, decision); err != nil {
		return err
	}
	info := grants.SlackRequestInfo(req)
	view := slack.DenyModal(info)
	if decision == grants.DecisionApprove {
		view = slack.ApproveModal(info, cat.Resources[req.Resource].MaxDuration)
	}
	_, err = s.opts.Slack.Client.OpenView(ctx, in.TriggerID, view)
	return err
}

// openExtendModal opens the extension modal for the grantee of an active
// grant.
func (s *Server) openExtendModal(ctx context.Context, in slack.Interaction, p *grants.Person) error {
	g, res, err := s.extendableGrant(ctx, in.GrantID, p)
	if err != nil {
		return err
	}
	choice := slack.ResourceChoice{Name: res.Name, Description: res.Description, MaxDuration: res.MaxDuration,
		DefaultDuration: res.DefaultDuration, RequireReason: res.RequireReason}
	_, err = s.opts.Slack.Client.OpenView(ctx, in.TriggerID, slack.ExtendModal(grants.SlackGrantInfo(g), choice))
	return err
}

// extendableGrant is p's active grant id and its resource.
func (s *Server) extendableGrant(ctx context.Context, id int64, p *grants.Person) (*grants.Grant, grants.Resource, error) {
	g, err := s.store.GetGrant(ctx, id)
	if err != nil {
		return nil, grants.Resource{}, err
	}
	if g.UserEmail != p.Email {
		return nil, grants.Resource{}, httpError(http.StatusNotFound, fmt.Sprintf("no grant %d", id))
	}
	if g.Status != grants.GrantActive {
		return nil, grants.Resource{}, httpError(http.StatusConflict, fmt.Sprintf("grant %d is %s, not active", g.ID, g.Status))
	}
	res, ok := s.opts.Catalog().Resources[g.Resource]
	if !ok {
		return nil, grants.Resource{}, httpError(http.StatusConflict, fmt.Sprintf("resource %q is no longer in the catalog", g.Resource))
	}
	return g, res, nil
}

// slackSubmit acts on a submitted modal and returns the errors to show in
// it (block id → words), or nil when it may close.
func (s *Server) slackSubmit(ctx context.Context, in slack.Interaction) map[string]string {
	p, err := s.slackPerson(ctx, in.UserID)
	block, target := slack.InputComment, fmt.Sprintf("request:%d", in.RequestID)
	if err == nil {
		block, target, err = s.submit(ctx, in, p)
	}
	if err == nil {
		return nil
	}
	if p == nil {
		// No input of the modal is at fault: show it on the first one.
		block = firstInput(in.Kind)
	}
	return map[string]string{block: s.slackRefusal(ctx, in.UserID, p, submitAction(in.Kind), target, err)}
}

func firstInput(k slack.InteractionKind) string {
	switch k {
	case slack.SubmitApprove, slack.SubmitExtend:
		return slack.InputDuration
	case slack.SubmitRequest:
		return slack.InputResource
	}
	return slack.InputComment
}

func submitAction(k slack.InteractionKind) string {
	switch k {
	case slack.SubmitApprove:
		return "approve"
	case slack.SubmitDeny:
		return "deny"
	case slack.SubmitRequest:
		return "request"
	}
	return "extend"
}

// submit decides, files or extends; it returns the modal's input a refusal
// is shown under and the audit target.
func (s *Server) submit(ctx context.Context, in slack.Interaction, p *grants.Person) (block, target string, err error) {
	cat, now := s.opts.Catalog(), s.now()
	target = fmt.Sprintf("request:%d", in.RequestID)
	switch in.Kind {
	case slack.SubmitApprove:
		block = slack.InputDuration
		_, err = s.store.ApproveRequestWith(ctx, cat, in.RequestID, p, grants.ApproveInput{Comment: in.Comment, Duration: in.Duration}, now)
	case slack.SubmitDeny:
		block = slack.InputComment
		_, err = s.store.DenyRequest(ctx, cat, in.RequestID, p, in.Comment, now)
	case slack.SubmitRequest:
		block, target, err = s.submitRequestModal(ctx, in, p)
	case slack.SubmitExtend:
		block, target, err = s.submitExtension(ctx, in, p)
	}
	if err != nil {
		return block, target, err
	}
	s.wake()
	s.auditSlackAction(ctx, in.UserID, p, submitAction(in.Kind), target)
	return block, target, nil
}

// submitRequestModal files the request modal's request.
func (s *Server) submitRequestModal(ctx context.Context, in slack.Interaction, p *grants.Person) (string, string, error) {
	cat := s.opts.Catalog()
	if errs := slack.CheckRequestSubmission(in, resourceChoices(cat, p)); len(errs) > 0 {
		for _, block := range []string{slack.InputResource, slack.InputDuration, slack.InputReason} {
			if msg, ok := errs[block]; ok {
				return block, "slack:" + in.UserID, httpError(http.StatusBadRequest, msg)
			}
		}
	}
	req, err := s.store.CreateRequest(ctx, cat, p, grants.RequestInput{Resource: in.Resource, Duration: in.Duration, Reason: in.Reason}, s.now())
	if err != nil {
		return slack.InputResource, "slack:" + in.UserID, err
	}
	return "", fmt.Sprintf("request:%d", req.ID), nil
}

// submitExtension files a request for more time on an active grant: once
// approved, the same grant's expiresAt moves (grants are extended, never
// shortened).
func (s *Server) submitExtension(ctx context.Context, in slack.Interaction, p *grants.Person) (string, string, error) {
	target := fmt.Sprintf("grant:%d", in.GrantID)
	if _, _, err := s.extendableGrant(ctx, in.GrantID, p); err != nil {
		return slack.InputDuration, target, err
	}
	// Exactly the API's extension: a request with extends, approved under
	// the resource's rules, moving the same grant's expiresAt.
	_, err := s.store.ExtendGrant(ctx, s.opts.Catalog(), in.GrantID, p, grants.ExtensionInput{Duration: in.Duration, Reason: in.Reason}, s.now())
	if errors.Is(err, grants.ErrInvalid) {
		return slack.InputReason, target, err
	}
	return slack.InputDuration, target, err
}
