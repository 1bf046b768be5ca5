package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// pollInterval is how often --wait asks the portal about the request.
const pollInterval = 500 * time.Millisecond

const requestHelp = `Asks for access to RESOURCE for a while, with a reason. Without --wait it
prints the request's id and status; approvers see it at once.

With --wait it blocks, showing progress on stderr, until the grant is in the
tailnet policy (exit 0, the grant and its expiry on stdout) or the request is
denied, cancelled or expires (exit 1), or --timeout passes (exit 1).
With --json, stdout holds the request as the API last showed it.`

// newRequestBody is the body of POST /api/v1/requests.
type newRequestBody struct {
	Resource string `json:"resource"`
	Duration string `json:"duration,omitempty"`
	Reason   string `json:"reason"`
}

func runRequest(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("request", requestHelp)
	var duration durationFlag
	f.Var(&duration, "for", "how long, a Go `DURATION` such as 90m or 2h; the resource's default when left out")
	reason := f.String("reason", "", "why you need the access, as `TEXT` (some resources require one)")
	wait := f.Bool("wait", false, "wait until the grant is applied in the tailnet, or the request is decided against")
	timeout := durationFlag{text: "5m", d: 5 * time.Minute}
	f.Var(&timeout, "timeout", "the longest --wait waits, a `DURATION`")
	rest, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, "RESOURCE"); err != nil {
		return err
	}
	if f.isSet("timeout") && !*wait {
		return usagef("--timeout applies only with --wait")
	}
	api, err := c.newAPIClient()
	if err != nil {
		return err
	}
	var req accessRequest
	raw, err := api.post(ctx, "/api/v1/requests", newRequestBody{Resource: rest[0], Duration: duration.text, Reason: *reason}, &req)
	if err != nil {
		return err
	}
	if *wait {
		return c.waitForGrant(ctx, api, req, raw, timeout.d)
	}
	if c.json {
		return c.printJSON(raw)
	}
	line := fmt.Sprintf("request %s for %s (%s): %s", req.ID, req.Resource, formatDuration(req.Duration), req.Status)
	if g := req.Grant; g != nil {
		line += fmt.Sprintf("; grant %s until %s", g.ID, formatTime(g.ExpiresAt))
	}
	if req.Status == statusPending {
		line += " — waiting for approval"
	}
	fmt.Fprintln(c.stdout, line)
	return nil
}

// waitForGrant polls the request until its grant is applied in the tailnet
// or it is decided against, showing progress on stderr.
func (c *cli) waitForGrant(ctx context.Context, api *apiClient, req accessRequest, raw json.RawMessage, timeout time.Duration) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var w waitProgress
	var lastErr error
	for {
		done, err := w.step(c, req)
		if done {
			if c.json {
				if perr := c.printJSON(raw); perr != nil {
					return perr
				}
			} else if err == nil {
				g := req.Grant
				what := "access granted"
				if req.Extends != "" {
					what = "access extended"
				}
				fmt.Fprintf(c.stdout, "%s: %s (%s) until %s, %s left; grant %s\n",
					what, g.Resource, g.Group, formatTime(g.ExpiresAt), formatLeft(deref(g.ExpiresAt), c.now()), g.ID)
			}
			return err
		}
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return parent.Err() // interrupted
			}
			if c.json {
				c.printJSON(raw)
			}
			msg := fmt.Sprintf("gave up waiting after %s: request %s is still %s", compactDuration(timeout), req.ID, w.state(req))
			if lastErr != nil {
				msg += " (last error: " + lastErr.Error() + ")"
			}
			return errors.New(msg)
		case <-tick.C:
		}
		var next accessRequest
		nextRaw, err := api.get(ctx, "/api/v1/requests/"+url.PathEscape(string(req.ID)), nil, &next)
		var ae *apiError
		switch {
		case err == nil:
			req, raw, lastErr = next, nextRaw, nil
		case ctx.Err() != nil:
			// The deadline or an interrupt: reported at the top of the loop.
		case errors.As(err, &ae) && ae.status < 500:
			return err // refused: waiting longer will not help
		default:
			if lastErr == nil {
				fmt.Fprintf(c.stderr, "%s; retrying…\n", oneLine(err.Error()))
			}
			lastErr = err // the portal restarting or a network blip
		}
	}
}

// waitProgress remembers what --wait has already told the user.
type waitProgress struct {
	announced string
	approvals int
}

// step looks at the request's latest state: done with nil when the grant is
// applied, done with an error when it never will be, else not done (after
// telling the user about any change).
func (w *waitProgress) step(c *cli, req accessRequest) (bool, error) {
	switch req.Status {
	case statusPending:
		if len(req.Approvals) > w.approvals {
			a := req.Approvals[len(req.Approvals)-1]
			fmt.Fprintf(c.stderr, "approved by %s; waiting for more approvals…\n", a.By)
			w.approvals = len(req.Approvals)
		}
		w.announce(c, fmt.Sprintf("request %s for %s: waiting for approval…", req.ID, req.Resource))
		return false, nil
	case statusApproved:
		g := req.Grant
		switch {
		case g != nil && g.AppliedAt != nil:
			return true, nil
		case g != nil && g.Status != "" && g.Status != grantActive:
			return true, fmt.Errorf("grant %s of request %s was %s before the tailnet applied it", g.ID, req.ID, g.Status)
		}
		w.announce(c, "approved; waiting for the tailnet…")
		return false, nil
	case statusDenied:
		msg := fmt.Sprintf("request %s for %s was denied", req.ID, req.Resource)
		if d := req.Denial; d != nil {
			msg += " by " + d.By
			if d.Comment != "" {
				msg += ": " + d.Comment
			}
		}
		return true, errors.New(msg)
	case statusCancelled:
		return true, fmt.Errorf("request %s for %s was cancelled", req.ID, req.Resource)
	case statusExpired:
		return true, fmt.Errorf("request %s for %s expired: nobody decided it in time", req.ID, req.Resource)
	default:
		return true, fmt.Errorf("request %s has a status this access does not know: %q", req.ID, req.Status)
	}
}

func (w *waitProgress) announce(c *cli, msg string) {
	if w.announced != msg {
		fmt.Fprintln(c.stderr, msg)
		w.announced = msg
	}
}

// state describes where a request stands, for the timeout message.
func (w *waitProgress) state(req accessRequest) string {
	if req.Status == statusApproved {
		return "approved, its grant not yet applied in the tailnet"
	}
	return req.Status
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
