package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

const listHelp = `Lists my requests (those I made, not those I may approve) and my grants,
with the time each active grant has left and whether the tailnet has it yet.

With --json, stdout holds {"requests": [Request], "grants": [Grant]}.`

// listing is the JSON of "access ls --json".
type listing struct {
	Requests []json.RawMessage `json:"requests"`
	Grants   []json.RawMessage `json:"grants"`
}

func runList(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("ls", listHelp)
	active := f.Bool("active", false, "only pending requests and active grants")
	api, _, err := c.connect(f, args)
	if err != nil {
		return err
	}
	var who me
	if _, err := api.get(ctx, "/api/v1/me", nil, &who); err != nil {
		return err
	}
	reqQuery := url.Values{}
	grantQuery := url.Values{"user": {who.Email}}
	if *active {
		reqQuery.Set("status", statusPending)
		grantQuery.Set("active", "true")
	}
	var rawRequests, rawGrants []json.RawMessage
	if _, err := api.get(ctx, "/api/v1/requests", reqQuery, &rawRequests); err != nil {
		return err
	}
	if _, err := api.get(ctx, "/api/v1/grants", grantQuery, &rawGrants); err != nil {
		return err
	}

	// The API also returns requests the caller may approve (all of them for
	// an admin), and grants of others to an admin: keep only mine.
	out := listing{Requests: []json.RawMessage{}, Grants: []json.RawMessage{}}
	var requests []accessRequest
	var grants []grant
	for _, raw := range rawRequests {
		var r accessRequest
		if err := decodeAnswer(raw, &r); err != nil {
			return err
		}
		if strings.EqualFold(r.Requester, who.Email) {
			requests = append(requests, r)
			out.Requests = append(out.Requests, raw)
		}
	}
	for _, raw := range rawGrants {
		var g grant
		if err := decodeAnswer(raw, &g); err != nil {
			return err
		}
		if strings.EqualFold(g.User, who.Email) {
			grants = append(grants, g)
			out.Grants = append(out.Grants, raw)
		}
	}
	if c.json {
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		return c.printJSON(b)
	}
	return c.printListing(requests, grants)
}

func (c *cli) printListing(requests []accessRequest, grants []grant) error {
	if len(requests) == 0 && len(grants) == 0 {
		fmt.Fprintln(c.stderr, "no requests and no grants")
		return nil
	}
	if len(requests) > 0 {
		fmt.Fprintln(c.stdout, "REQUESTS")
		t := newTable(c.stdout, "ID", "RESOURCE", "FOR", "STATUS", "CREATED", "REASON")
		for _, r := range requests {
			t.row(r.ID.String(), r.Resource, formatDuration(r.Duration), r.Status, formatTime(r.CreatedAt), truncate(r.Reason, 50))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(grants) > 0 {
		if len(requests) > 0 {
			fmt.Fprintln(c.stdout)
		}
		fmt.Fprintln(c.stdout, "GRANTS")
		t := newTable(c.stdout, "ID", "RESOURCE", "GROUP", "STATUS", "IN TAILNET", "EXPIRES", "LEFT")
		now := c.now()
		for _, g := range grants {
			left, applied := "", ""
			if g.Status == grantActive {
				left = formatLeft(deref(g.ExpiresAt), now)
				applied = "pending"
				if g.AppliedAt != nil {
					applied = "yes"
				}
			} else if g.AppliedAt != nil && g.RemovedAt == nil {
				applied = "removing"
			}
			t.row(g.ID.String(), g.Resource, g.Group, g.Status, applied, formatTime(g.ExpiresAt), left)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	return nil
}
