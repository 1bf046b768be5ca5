package slack

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func commandBody(text string) []byte {
	return []byte(url.Values{
		"command": {"/access"}, "user_id": {"U1"}, "user_name": {"alice"}, "team_id": {"T1"}, "channel_id": {"C1"},
		"text": {text}, "trigger_id": {"1.2.abc"}, "response_url": {"https://hooks.slack.com/commands/T1/1/x"},
	}.Encode())
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text    string
		want    Command
		problem string
	}{
		{text: "", want: Command{Kind: CommandModal}},
		{text: "   ", want: Command{Kind: CommandModal}},
		{text: "list", want: Command{Kind: CommandList}},
		{text: "LIST", want: Command{Kind: CommandList}},
		{text: "help", want: Command{Kind: CommandHelp}},
		{text: "prod-db 1h investigating INC-42  now", want: Command{Kind: CommandRequest, Resource: "prod-db", Duration: time.Hour, Reason: "investigating INC-42 now"}},
		{text: "prod-db 90m", want: Command{Kind: CommandRequest, Resource: "prod-db", Duration: 90 * time.Minute}},
		{text: "prod-db", problem: "Say how long you need prod-db"},
		{text: "prod-db soon because", problem: `invalid duration "soon"`},
		{text: "prod-db -1h because", problem: `duration "-1h" must be positive`},
		{text: "prod-db 1d because", problem: `invalid duration "1d"`},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			c, err := ParseCommand(commandBody(tt.text))
			if tt.problem != "" {
				var ue *UsageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.problem) || !strings.HasSuffix(err.Error(), Usage) {
					t.Fatalf("error = %v, want a usage error about %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind != tt.want.Kind || c.Resource != tt.want.Resource || c.Duration != tt.want.Duration || c.Reason != tt.want.Reason {
				t.Errorf("got %+v, want %+v", c, tt.want)
			}
			if c.UserID != "U1" || c.TriggerID != "1.2.abc" || c.ResponseURL == "" || c.Name != "/access" {
				t.Errorf("form fields lost: %+v", c)
			}
		})
	}
	if _, err := ParseCommand([]byte("text=list")); err == nil {
		t.Error("a command without user_id parsed")
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 90 * time.Minute: "1h30m", 45 * time.Minute: "45m", 90 * time.Second: "1m30s", 168 * time.Hour: "168h",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Errorf("round trip of %v: %v %v", d, back, err)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "list", "prod-db 1h why", "x 0s", "a -5m b", "db 1h30m \u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseCommand(commandBody(text))
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("non-usage error %v", err)
			}
			return
		}
		if c.Kind == CommandRequest && (c.Resource == "" || c.Duration <= 0) {
			t.Fatalf("request without resource or positive duration: %+v", c)
		}
	})
}
