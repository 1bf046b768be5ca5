package web

import (
	"html"
	"html/template"
	"time"
)

// shownTimeLayouts are the layouts pages print moments in (showTime and
// adminTime.Text), so that `when` can mark up a moment a view already
// holds as text.
var shownTimeLayouts = []string{"2006-01-02 15:04 UTC", "2006-01-02 15:04:05 UTC", time.RFC3339}

// when marks up a moment as <time datetime="…">, in UTC, with UTC in its
// title: static/app.js then shows it in the viewer's time zone with a
// relative time ("in 42 min", "3 h ago"). It takes a time.Time, a
// *time.Time, an adminTime or a string in one of shownTimeLayouts; a zero
// or missing moment renders nothing, and a string it cannot read renders as
// plain text.
func when(v any) template.HTML {
	t, text, ok := momentOf(v)
	if !ok {
		return template.HTML(html.EscapeString(text))
	}
	iso := t.UTC().Format(time.RFC3339)
	utc := t.UTC().Format("2006-01-02 15:04:05 UTC")
	if text == "" {
		text = t.UTC().Format("2006-01-02 15:04 UTC")
	}
	return template.HTML(`<time datetime="` + iso + `" title="` + utc + `" data-local>` + html.EscapeString(text) + `</time>`)
}

// momentOf reads the moment of one of when's arguments and the text it is
// shown as today ("" to let when choose).
func momentOf(v any) (time.Time, string, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, "", !x.IsZero()
	case *time.Time:
		if x == nil {
			return time.Time{}, "", false
		}
		return *x, "", !x.IsZero()
	case adminTime:
		return x.t, "", !x.IsZero()
	case string:
		for _, layout := range shownTimeLayouts {
			if t, err := time.Parse(layout, x); err == nil {
				return t, x, true
			}
		}
		return time.Time{}, x, false
	}
	return time.Time{}, "", false
}
