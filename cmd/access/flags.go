package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// usageError is a mistake on the command line; it makes the process exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// commandFlags is the flag set of one subcommand. It also accepts --json, so
// that the flag may come anywhere on the command line.
type commandFlags struct {
	*flag.FlagSet
	c    *cli
	cmd  command
	help string
	json bool
}

// newFlags makes the flag set of the subcommand name; help is the text
// shown by --help after the synopsis.
func (c *cli) newFlags(name, help string) *commandFlags {
	var cmd command
	for _, x := range commands() {
		if x.name == name {
			cmd = x
		}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by cli.exit
	fs.Usage = func() {}
	f := &commandFlags{FlagSet: fs, c: c, cmd: cmd, help: help}
	fs.BoolVar(&f.json, "json", false, "print the API's JSON on stdout")
	return f
}

// parse parses flags that may come before or after the positional
// arguments, and returns the positional ones. --help prints the
// command's help on stdout and returns flag.ErrHelp.
func (f *commandFlags) parse(args []string) ([]string, error) {
	var positional []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printHelp()
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		f.c.json = f.c.json || f.json
		args = f.Args()
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

// isSet reports whether the flag name was given on the command line.
func (f *commandFlags) isSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

func (f *commandFlags) printHelp() {
	w := f.c.stdout
	fmt.Fprintf(w, "usage: %s\n\n%s\n", f.cmd.synopsis(), strings.TrimSpace(f.help))
	fmt.Fprintln(w, "\nflags:")
	f.VisitAll(func(fl *flag.Flag) {
		arg, usage := flag.UnquoteUsage(fl)
		name := "--" + fl.Name
		if arg != "" {
			name += " " + arg
		}
		if fl.DefValue != "" && fl.DefValue != "false" {
			usage += fmt.Sprintf(" (default %s)", fl.DefValue)
		}
		fmt.Fprintf(w, "  %-20s %s\n", name, usage)
	})
}

// wantArgs checks the positional arguments against their names.
func wantArgs(args []string, names ...string) error {
	switch {
	case len(args) < len(names):
		return usagef("missing %s", names[len(args)])
	case len(args) > len(names):
		return usagef("unexpected argument %q", args[len(names)])
	}
	for i, a := range args {
		if strings.TrimSpace(a) == "" {
			return usagef("%s is empty", names[i])
		}
	}
	return nil
}

// durationFlag is a flag holding a positive Go duration ("90m", "2h"),
// keeping the text as typed so that the API receives it unchanged.
type durationFlag struct {
	text string
	d    time.Duration
}

func (f *durationFlag) String() string { return f.text }

func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a duration like 90m or 2h", s)
	}
	if d <= 0 {
		return fmt.Errorf("%q is not positive", s)
	}
	f.text, f.d = strings.TrimSpace(s), d
	return nil
}

// wantIDs checks that every argument named like "REQUEST-ID" or "GRANT-ID"
// is a positive whole number, as the portal's ids are.
func wantIDs(args []string, names ...string) error {
	for i, a := range args {
		if i >= len(names) || !strings.HasSuffix(names[i], "-ID") {
			continue
		}
		if n, err := strconv.ParseInt(a, 10, 64); err != nil || n <= 0 {
			return usagef("%s must be a positive whole number, not %q", names[i], a)
		}
	}
	return nil
}
