package slack

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// CommandKind is what a slash command asks for.
type CommandKind int

// Kinds of /access commands.
const (
	// CommandRequest is `/access RESOURCE DURATION REASON…`: file a request.
	CommandRequest CommandKind = iota + 1
	// CommandModal is `/access` alone: open the request modal.
	CommandModal
	// CommandList is `/access list`: the caller's pending requests and
	// active grants.
	CommandList
	// CommandHelp is `/access help`: the usage line.
	CommandHelp
)

// Usage is the one-line usage of /access, shown with every usage error.
const Usage = "Usage: /access RESOURCE DURATION REASON… (e.g. /access prod-db 1h investigating INC-42), /access to pick from a form, /access list"

// Command is a parsed slash command. The form fields are those Slack sends
// (https://api.slack.com/interactivity/slash-commands, "app command
// payloads"): user_id, text, trigger_id, response_url, …
type Command struct {
	Kind CommandKind
	// Name is the command as typed, e.g. "/access".
	Name string
	// UserID is the Slack user who typed it (user_id).
	UserID string
	// UserName is their handle (user_name), for logs only.
	UserName string
	// TeamID and ChannelID say where it was typed.
	TeamID, ChannelID string
	// TriggerID opens a modal within 3 seconds (views.open).
	TriggerID string
	// ResponseURL takes up to five delayed answers within 30 minutes.
	ResponseURL string

	// Resource, Duration and Reason are set for CommandRequest.
	Resource string
	Duration time.Duration
	Reason   string
}

// UsageError is a command the portal cannot understand. Its message is a
// one-line ephemeral answer ending with [Usage].
type UsageError struct{ Problem string }

// Error is the problem followed by [Usage].
func (e *UsageError) Error() string { return e.Problem + ". " + Usage }

// ParseCommand parses the form-encoded body of a verified slash command.
// Errors about the text are *UsageError; a body without user_id is an error
// too (it cannot be Slack's).
func ParseCommand(body []byte) (Command, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return Command{}, fmt.Errorf("parsing slash command form: %w", err)
	}
	c := Command{
		Name: form.Get("command"), UserID: form.Get("user_id"), UserName: form.Get("user_name"),
		TeamID: form.Get("team_id"), ChannelID: form.Get("channel_id"),
		TriggerID: form.Get("trigger_id"), ResponseURL: form.Get("response_url"),
	}
	if c.UserID == "" {
		return Command{}, fmt.Errorf("parsing slash command: no user_id")
	}
	return c, c.parseText(form.Get("text"))
}

func (c *Command) parseText(text string) error {
	words := strings.Fields(text)
	switch {
	case len(words) == 0:
		c.Kind = CommandModal
		return nil
	case len(words) == 1 && strings.EqualFold(words[0], "list"):
		c.Kind = CommandList
		return nil
	case len(words) == 1 && strings.EqualFold(words[0], "help"):
		c.Kind = CommandHelp
		return nil
	case len(words) == 1:
		return &UsageError{Problem: fmt.Sprintf("Say how long you need %s", words[0])}
	}
	d, err := ParseDuration(words[1])
	if err != nil {
		return &UsageError{Problem: err.Error()}
	}
	c.Kind, c.Resource, c.Duration = CommandRequest, words[0], d
	c.Reason = strings.Join(words[2:], " ")
	return nil
}

// ParseDuration parses a positive Go duration such as "90m" or "2h", with
// the JSON API's words when it is not one.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use Go durations such as \"90m\" or \"2h\"", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration %q must be positive", s)
	}
	return d, nil
}

// FormatDuration renders d as a Go duration without zero units:
// 1h, 1h30m, 45m, 90s.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
