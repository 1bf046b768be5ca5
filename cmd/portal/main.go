package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one subcommand of portal.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv is what a command may touch: its streams and the environment.
type cliEnv struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// usageError makes the process exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func commands() []command {
	return []command{
		{"serve", "run the portal in production (configuration from the environment)", runServe},
		{"demo", "run everything on loopback with a simulated Okta and tailnet", runDemo},
		{"migrate", "apply database migrations and exit", runMigrate},
		{"sync", "reconcile the tailnet policy once (--dry-run: print the diff only)", runSync},
		{"token", "manage API tokens: token create --user EMAIL [--name NAME] [--ttl DURATION]", runToken},
		{"catalog", "catalog export | catalog import FILE", runCatalog},
		{"audit", "audit verify: check the audit log's hash chain", runAudit},
		{"evidence", "evidence export --since T --until T [-o FILE] | evidence verify FILE | evidence pubkey", runEvidence},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &cliEnv{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(run(ctx, env, os.Args[1:]))
}

// run dispatches to a subcommand and turns its error into an exit code:
// 0 success, 1 failure, 2 usage.
func run(ctx context.Context, env *cliEnv, args []string) int {
	setupLogging(env)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		var ue *usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(env.stderr, "portal %s: %s\n", c.name, ue.msg)
			return 2
		default:
			fmt.Fprintf(env.stderr, "portal %s: %s\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(env.stderr, "portal: unknown command %q\n", args[0])
	printUsage(env.stderr)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: portal COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'portal COMMAND --help' for a command's flags.")
}

func setupLogging(env *cliEnv) {
	level := slog.LevelInfo
	if strings.EqualFold(env.getenv("PORTAL_LOG_LEVEL"), "debug") {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(env.stderr, opts)
	if strings.EqualFold(env.getenv("PORTAL_LOG_FORMAT"), "json") {
		h = slog.NewJSONHandler(env.stderr, opts)
	}
	slog.SetDefault(slog.New(h))
}

// newFlags makes a flag set whose errors and help go to stderr.
func newFlags(env *cliEnv, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "usage: portal %s\n", usage)
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(env.stderr, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses flags that may come before or after positional
// arguments, and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, names ...string) error {
	if len(args) != len(names) {
		if len(names) == 0 {
			return &usageError{fmt.Sprintf("unexpected argument %q", args[0])}
		}
		return &usageError{fmt.Sprintf("want %s, got %d argument(s)", strings.Join(names, " "), len(args))}
	}
	return nil
}
