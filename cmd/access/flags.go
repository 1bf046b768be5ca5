package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
	fs.BoolVar(&c.json, "json", c.json, "print the API's JSON on stdout")
	return &commandFlags{FlagSet: fs, c: c, cmd: cmd, help: help}
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

func (f *commandFlags) printHelp() {
	w := f.c.stdout
	fmt.Fprintf(w, "usage: access %s %s\n\n%s\n", f.cmd.name, f.cmd.args, strings.TrimSpace(f.help))
	fmt.Fprintln(w, "\nflags:")
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
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
