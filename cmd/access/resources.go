package main

import (
	"context"
	"fmt"
	"strings"
)

func runResources(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("resources", "Lists the resources of the catalog: what each is, the Tailscale group it\ngrants, default and longest duration, whether a reason is required, and who\nmay request it, and whether you may.")
	api, _, err := c.connect(f, args)
	if err != nil {
		return err
	}
	var list []resource
	raw, err := api.get(ctx, "/api/v1/resources", nil, &list)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stderr, "the catalog has no resources")
		return nil
	}
	t := newTable(c.stdout, "NAME", "GROUP", "DEFAULT", "MAX", "REASON", "ELIGIBLE", "YOU MAY", "DESCRIPTION")
	for _, r := range list {
		reason := "optional"
		if r.RequireReason {
			reason = "required"
		}
		eligible := strings.Join(r.Eligible, ", ")
		if eligible == "" {
			eligible = "anyone"
		}
		mayRequest := "?"
		if r.CanRequest != nil {
			mayRequest = yesNo(*r.CanRequest)
		}
		t.row(r.Name, r.Group, formatDuration(r.DefaultDuration), formatDuration(r.MaxDuration), reason, eligible, mayRequest, truncate(r.Description, 60))
	}
	return t.flush()
}
