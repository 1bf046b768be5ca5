package main

import (
	"context"
	"strings"
)

func runWhoami(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("whoami", "Shows who the token belongs to: email, name, whether an admin, Okta groups.")
	api, _, err := c.connect(f, args)
	if err != nil {
		return err
	}
	var who me
	raw, err := api.get(ctx, "/api/v1/me", nil, &who)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	t := newTable(c.stdout)
	t.row("email", who.Email)
	t.row("name", who.Name)
	t.row("admin", yesNo(who.Admin))
	t.row("groups", strings.Join(who.Groups, ", "))
	t.row("portal", api.conn.url)
	return t.flush()
}
