package grants

import (
	"time"
)

// FormatDuration renders d as the catalog and the API write durations: a
// Go duration without useless zero units ("2h", "90m", "1h30m").
func FormatDuration(d time.Duration) string { return formatDuration(d) }

// dbTime is t as stored: UTC, microseconds (PostgreSQL's precision).
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
