package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// printJSON writes the API's JSON to stdout, indented, on its own.
func (c *cli) printJSON(raw json.RawMessage) error {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("printing the portal's answer: %w", err)
	}
	b.WriteByte('\n')
	_, err := c.stdout.Write(b.Bytes())
	return err
}

// table writes aligned columns to w; call flush when done.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// row writes one line; empty cells show as "-" so columns stay readable.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		c = strings.Join(strings.Fields(c), " ")
		if c == "" {
			c = "-"
		}
		cells[i] = c
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// formatTime shows a time in the local zone, to the minute; nil is "".
func formatTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04 MST")
}

// formatLeft shows how long until t, coarsely: "2h", "1h59m", "4m30s", "12s".
func formatLeft(t time.Time, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "ended"
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return compactDuration(d.Round(time.Minute))
	}
}

// truncate shortens s to n runes with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// formatDuration shows a Go duration compactly ("4h0m0s" -> "4h",
// "1h30m0s" -> "1h30m"); text that is not a Go duration is shown as is.
func formatDuration(text jsonText) string {
	d, err := time.ParseDuration(string(text))
	if err != nil {
		return string(text)
	}
	return compactDuration(d)
}

// compactDuration drops zero minutes and seconds: "4h0m0s" -> "4h".
func compactDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// formatAge says how long ago something happened, coarsely: "just now",
// "12m ago", "3h ago", "2 days ago".
func formatAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}
