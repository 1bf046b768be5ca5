package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Exit codes scripts can rely on.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// httpTimeout bounds each call to the portal.
const httpTimeout = 30 * time.Second

// cli is one run of the program: its streams, its environment and the
// global flags.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// json asks for the API's JSON on stdout instead of tables.
	json bool
	// now is the clock used for "time left".
	now func() time.Time
}

// command is one subcommand of access.
type command struct {
	name    string
	args    string // synopsis after the name
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

// synopsis is "access NAME ARGS".
func (cmd command) synopsis() string {
	return strings.TrimSpace("access " + cmd.name + " " + cmd.args)
}

func commands() []command {
	return []command{
		{"whoami", "", "show who the token belongs to", runWhoami},
		{"resources", "", "list what may be requested", runResources},
		{"request", "RESOURCE [--for DURATION] [--reason TEXT] [--wait] [--timeout DURATION]", "ask for access to a resource", runRequest},
		{"ls", "[--active]", "list my requests and grants, with time left", runList},
		{"inbox", "", "list the requests waiting for my decision", runInbox},
		{"approve", "REQUEST-ID [--for DURATION] [--comment TEXT]", "approve someone's request", runApprove},
		{"deny", "REQUEST-ID [--comment TEXT]", "deny someone's request", runDeny},
		{"cancel", "REQUEST-ID", "withdraw my pending request", runCancel},
		{"extend", "GRANT-ID [--for DURATION] [--reason TEXT] [--wait] [--timeout DURATION]", "ask to keep a grant of mine longer", runExtend},
		{"revoke", "GRANT-ID [--reason TEXT]", "end a grant now", runRevoke},
		{"login", "[--url URL] [--token TOKEN]", "store the portal URL and an API token", runLogin},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now}
	os.Exit(c.run(ctx, os.Args[1:]))
}

// run dispatches to a subcommand and turns its error into an exit code.
func (c *cli) run(ctx context.Context, args []string) int {
	global := flag.NewFlagSet("access", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	global.Usage = func() {}
	global.BoolVar(&c.json, "json", false, "")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(c.stdout)
			return exitOK
		}
		fmt.Fprintf(c.stderr, "access: %s (run \"access --help\")\n", err)
		return exitUsage
	}
	args = global.Args()
	if len(args) == 0 {
		printUsage(c.stdout)
		return exitOK
	}
	name := args[0]
	if name == "help" {
		return c.help(args[1:])
	}
	for _, cmd := range commands() {
		if cmd.name == name {
			return c.exit(cmd, cmd.run(ctx, c, args[1:]))
		}
	}
	fmt.Fprintf(c.stderr, "access: unknown command %q (run \"access --help\")\n", name)
	return exitUsage
}

// help answers "access help [COMMAND]".
func (c *cli) help(args []string) int {
	if len(args) == 0 {
		printUsage(c.stdout)
		return exitOK
	}
	return c.run(context.Background(), []string{args[0], "--help"})
}

// exit prints err as one line on stderr and returns the exit code for it.
func (c *cli) exit(cmd command, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "access %s: %s (usage: %s)\n", cmd.name, ue.msg, cmd.synopsis())
		return exitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(c.stderr, "access: interrupted")
		return exitFailed
	default:
		fmt.Fprintf(c.stderr, "access: %s\n", oneLine(err.Error()))
		return exitFailed
	}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `usage: access [--json] COMMAND [ARGS] [FLAGS]

The command-line client of the access portal.

commands:
`)
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, `
flags (anywhere on the command line):
  --json     print the API's JSON on stdout instead of tables
  --help     show help (also "access COMMAND --help")

The portal is ACCESS_URL with the token ACCESS_TOKEN, or else what
"access login" stored. Exit status: 0 success, 1 refused or failed, 2 usage.
`)
}

// oneLine collapses an error message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
