package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

const loginHelp = `Stores the portal's URL and an API token (from the portal, or
"portal token create") in $XDG_CONFIG_HOME/access/config.json (or the user
configuration directory), readable only by you. The token is read from stdin
unless --token is given, so that it stays out of the shell's history. It is
checked with the portal before anything is saved.

ACCESS_URL and ACCESS_TOKEN, when set, override the stored values.`

func runLogin(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("login", loginHelp)
	urlFlag := f.String("url", "", "the portal's `URL` (default ACCESS_URL, else the stored one)")
	tokenFlag := f.String("token", "", "the API `TOKEN` (default: read from stdin, which keeps it out of the shell history)")
	rest, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest); err != nil {
		return err
	}
	stored, path, err := c.loadConfig()
	if path == "" {
		return err
	}
	if err != nil { // an unreadable file is replaced by this login
		fmt.Fprintf(c.stderr, "access: ignoring the stored configuration: %v\n", err)
	}

	rawURL, source := *urlFlag, "--url"
	if rawURL == "" {
		rawURL, source = c.getenv("ACCESS_URL"), "ACCESS_URL"
	}
	if rawURL == "" {
		rawURL, source = stored.URL, path
	}
	if rawURL == "" {
		return usagef("--url is required the first time")
	}
	portal, err := normalizeURL(rawURL)
	if err != nil {
		if source == "--url" {
			return usagef("--url: %v", err)
		}
		return fmt.Errorf("%s: %w", source, err)
	}

	token := strings.TrimSpace(*tokenFlag)
	if token == "" {
		if token, err = c.readToken(ctx, portal); err != nil {
			return err
		}
	}
	if token == "" {
		return usagef("no token: give --token or type it on stdin")
	}

	api := newAPIClient(connection{url: portal, token: token, urlSource: source, tokenSource: "login"})
	var who me
	raw, err := api.get(ctx, "/api/v1/me", nil, &who)
	if err != nil {
		return err
	}
	if err := saveConfig(path, storedConfig{URL: portal, Token: token}); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	fmt.Fprintf(c.stdout, "logged in to %s as %s; saved to %s\n", portal, who.Email, path)
	if c.getenv("ACCESS_URL") != "" || c.getenv("ACCESS_TOKEN") != "" {
		fmt.Fprintln(c.stderr, "note: ACCESS_URL or ACCESS_TOKEN is set and overrides what was saved")
	}
	return nil
}

// readToken reads one line from stdin, prompting without echo when stdin
// is a terminal. An interrupt stops it (and gives the terminal its echo
// back).
func (c *cli) readToken(ctx context.Context, portal string) (string, error) {
	type readResult struct {
		line string
		err  error
	}
	read := make(chan readResult, 1)
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		fmt.Fprintf(c.stderr, "API token for %s (create one in the portal): ", portal)
		defer fmt.Fprintln(c.stderr)
		if state, err := term.GetState(fd); err == nil {
			defer func() {
				if err := term.Restore(fd, state); err != nil {
					fmt.Fprintf(c.stderr, "access: restoring the terminal: %v\n", err)
				}
			}()
		}
		go func() {
			b, err := term.ReadPassword(fd)
			read <- readResult{string(b), err}
		}()
	} else {
		go func() {
			line, err := bufio.NewReader(c.stdin).ReadString('\n')
			read <- readResult{line, err}
		}()
	}
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-read:
		if r.err != nil && !errors.Is(r.err, io.EOF) {
			return "", fmt.Errorf("reading the token from stdin: %w", r.err)
		}
		return strings.TrimSpace(r.line), nil
	}
}
