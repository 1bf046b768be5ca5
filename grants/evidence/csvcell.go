package evidence

import (
	"encoding/csv"
	"strconv"
	"time"

	"github.com/accessportal/portal/grants"
)

// safeCell keeps a spreadsheet from running a cell as a formula: text
// starting with =, +, -, @, a tab or a carriage return gets a leading '.
func safeCell(s string) string { return grants.SafeCSVCell(s) }

// csvWriter writes rows with every cell made safe.
type csvWriter struct{ *csv.Writer }

func (w csvWriter) row(cells ...string) error {
	for i, c := range cells {
		cells[i] = safeCell(c)
	}
	return w.Write(cells)
}

// timeCell is a time in UTC, RFC 3339, or "" for nil.
func timeCell(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// secondsCell is the seconds from a to b with millisecond precision, or ""
// when either is unknown.
func secondsCell(a, b *time.Time) string {
	if a == nil || b == nil {
		return ""
	}
	return formatFixed(b.Sub(*a).Seconds(), 3)
}

func formatFixed(f float64, digits int) string { return strconv.FormatFloat(f, 'f', digits, 64) }

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
