package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

const inboxHelp = `Lists the requests waiting for my decision: pending requests for resources
I approve, made by others, that I have not approved yet. Decide them with
"access approve ID [--for DURATION]" or "access deny ID".

With --json, stdout holds [Request].`

func runInbox(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("inbox", inboxHelp)
	api, _, err := c.connect(f, args)
	if err != nil {
		return err
	}
	var raw []json.RawMessage
	body, err := api.get(ctx, "/api/v1/requests", url.Values{"role": {"approver"}}, &raw)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(body)
	}
	if len(raw) == 0 {
		fmt.Fprintln(c.stderr, "nothing waits for your decision")
		return nil
	}
	t := newTable(c.stdout, "ID", "REQUESTER", "RESOURCE", "FOR", "AGE", "REASON")
	now := c.now()
	for _, r := range raw {
		var req accessRequest
		if err := decodeAnswer(r, &req); err != nil {
			return err
		}
		what := req.Resource
		if req.Extends != "" {
			what += " (extends grant " + req.Extends.String() + ")"
		}
		age := ""
		if req.CreatedAt != nil {
			age = formatAge(now.Sub(*req.CreatedAt))
		}
		t.row(req.ID.String(), req.Requester, what, formatDuration(req.Duration), age, truncate(req.Reason, 60))
	}
	return t.flush()
}
