package evidence

import (
	"fmt"
	"strings"
	"time"
)

// ParseTime reads one end of a period as the CLI and the API take it:
// RFC 3339 (2026-03-01T00:00:00Z) or a date (2026-03-01, midnight UTC).
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-03-01T00:00:00Z) nor a date (2026-03-01)", s)
}

// FileName is the packet's name for a download: evidence-SINCE-UNTIL.zip,
// with dates, or times when the period does not fall on midnights.
func FileName(since, until time.Time) string {
	layout := "2006-01-02"
	if !since.Equal(since.Truncate(24*time.Hour)) || !until.Equal(until.Truncate(24*time.Hour)) {
		layout = "2006-01-02T150405Z"
	}
	return "evidence-" + since.UTC().Format(layout) + "-" + until.UTC().Format(layout) + ".zip"
}
