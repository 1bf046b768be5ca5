package main

import (
	"context"
	"fmt"
	"net/url"
)

// commentBody is the body of approve and deny.
type commentBody struct {
	Comment string `json:"comment"`
	// Duration is the grant's length an approver sets; approve only.
	Duration string `json:"duration,omitempty"`
}

func runApprove(ctx context.Context, c *cli, args []string) error {
	return c.decide(ctx, "approve", args)
}

func runDeny(ctx context.Context, c *cli, args []string) error {
	return c.decide(ctx, "deny", args)
}

// decide approves or denies a request (verb is "approve" or "deny").
func (c *cli) decide(ctx context.Context, verb string, args []string) error {
	help := map[string]string{
		"approve": "Approves someone's request, as an approver of its resource (ids are in the\nportal, its notifications and \"access inbox\"). Nobody approves their own\nrequest. --for sets the grant's length (any positive duration up to the\nresource's maximum); with several approvals the shortest set wins, counted\nfrom the final one. When the resource needs several approvals, the request\nstays pending until it has them.",
		"deny":    "Denies someone's request, as an approver of its resource or an admin; one\ndenial is final. The requester withdraws their own with \"access cancel\".",
	}[verb]
	f := c.newFlags(verb, help)
	comment := f.String("comment", "", "a note (`TEXT`) for the requester and the audit log")
	var duration durationFlag
	if verb == "approve" {
		f.Var(&duration, "for", "the grant's length, a Go `DURATION` up to the resource's maximum; the requested one when left out")
	}
	api, rest, err := c.connect(f, args, "REQUEST-ID")
	if err != nil {
		return err
	}
	var req accessRequest
	raw, err := api.post(ctx, "/api/v1/requests/"+url.PathEscape(rest[0])+"/"+verb, commentBody{Comment: *comment, Duration: duration.text}, &req)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	past := map[string]string{"approve": "approved", "deny": "denied"}[verb]
	line := fmt.Sprintf("%s request %s: %s for %s (%s); status %s", past, req.ID, req.Resource, req.Requester, formatDuration(req.Duration), req.Status)
	if verb == "approve" && req.Status == statusPending {
		line += fmt.Sprintf(" — %d approval(s) so far, more needed", len(req.Approvals))
	}
	if g := req.Grant; g != nil {
		line += fmt.Sprintf("; grant %s until %s", g.ID, formatTime(g.ExpiresAt))
	}
	fmt.Fprintln(c.stdout, line)
	return nil
}

func runCancel(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("cancel", "Withdraws a request of mine that nobody has decided yet.")
	api, rest, err := c.connect(f, args, "REQUEST-ID")
	if err != nil {
		return err
	}
	var req accessRequest
	raw, err := api.post(ctx, "/api/v1/requests/"+url.PathEscape(rest[0])+"/cancel", nil, &req)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	fmt.Fprintf(c.stdout, "cancelled request %s for %s; status %s\n", req.ID, req.Resource, req.Status)
	return nil
}

// revokeBody is the body of POST /api/v1/grants/{id}/revoke.
type revokeBody struct {
	Reason string `json:"reason"`
}

func runRevoke(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("revoke", "Ends a grant now (GRANT-ID as \"access ls\" shows it): mine, or anyone's for an\nadmin. The tailnet drops the membership within seconds.")
	reason := f.String("reason", "", "why the grant ends early (`TEXT`), for the audit log")
	api, rest, err := c.connect(f, args, "GRANT-ID")
	if err != nil {
		return err
	}
	var g grant
	raw, err := api.post(ctx, "/api/v1/grants/"+url.PathEscape(rest[0])+"/revoke", revokeBody{Reason: *reason}, &g)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	fmt.Fprintf(c.stdout, "revoked grant %s: %s for %s (%s); status %s\n", g.ID, g.Resource, g.User, g.Group, g.Status)
	return nil
}
