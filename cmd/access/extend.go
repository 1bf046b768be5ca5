package main

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

const extendHelp = `Asks to keep an active grant of mine (GRANT-ID as "access ls" shows it)
longer: a request decided like a new one (auto-approval included). On
approval the same grant runs until the approval time plus the duration; I
stay in the tailnet group meanwhile.

With --wait it blocks until the extension is approved (exit 0, the grant
and its new end on stdout) or denied, cancelled or expired (exit 1), or
--timeout passes (exit 1). With --json, stdout holds the request as the API
last showed it.`

// extendBody is the body of POST /api/v1/grants/{id}/extend.
type extendBody struct {
	Duration string `json:"duration,omitempty"`
	Reason   string `json:"reason"`
}

func runExtend(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("extend", extendHelp)
	var duration durationFlag
	f.Var(&duration, "for", "how much longer from the approval, a Go `DURATION` such as 30m or 1h; the resource's default when left out")
	reason := f.String("reason", "", "why you need longer, as `TEXT` (some resources require one)")
	wait := f.Bool("wait", false, "wait until the extension is approved, or decided against")
	timeout := durationFlag{text: "5m", d: 5 * time.Minute}
	f.Var(&timeout, "timeout", "the longest --wait waits, a `DURATION`")
	api, rest, err := c.connect(f, args, "GRANT-ID")
	if err != nil {
		return err
	}
	if f.isSet("timeout") && !*wait {
		return usagef("--timeout applies only with --wait")
	}
	var req accessRequest
	raw, err := api.post(ctx, "/api/v1/grants/"+url.PathEscape(rest[0])+"/extend", extendBody{Duration: duration.text, Reason: *reason}, &req)
	if err != nil {
		return err
	}
	if *wait {
		return c.waitForGrant(ctx, api, req, raw, timeout.d)
	}
	if c.json {
		return c.printJSON(raw)
	}
	line := fmt.Sprintf("request %s to extend grant %s (%s by %s): %s", req.ID, req.Extends, req.Resource, formatDuration(req.Duration), req.Status)
	if g := req.Grant; g != nil {
		line += fmt.Sprintf("; grant %s now until %s", g.ID, formatTime(g.ExpiresAt))
	}
	if req.Status == statusPending {
		line += " — waiting for approval; the grant keeps running"
	}
	fmt.Fprintln(c.stdout, line)
	return nil
}
