package web

import (
	"fmt"
	"strings"
	"testing"
)

func TestReferencesGroup(t *testing.T) {
	cases := []struct {
		line string
		want bool
	}{
		{`"src": ["group:db"],`, true},
		{`group:db`, true},
		{`"group:db": ["a@example.com"],`, true},
		{`"src": ["group:db-admins"],`, false},
		{`"src": ["group:db.ro", "group:db_x"],`, false},
		{`"src": ["autogroup:db"],`, false},
		{`"src": ["group:db-admins", "group:db"],`, true},
		{`// group:dbx is not it, but group:db is`, true},
		{``, false},
	}
	for _, c := range cases {
		if got := referencesGroup(c.line, "group:db"); got != c.want {
			t.Errorf("referencesGroup(%q) = %v, want %v", c.line, got, c.want)
		}
	}
}

// shown renders a preview as "3*,4 | 9*" (line numbers, * = references).
func shown(pv policyPreview) string {
	var hunks []string
	for _, h := range pv.Hunks {
		var ls []string
		for _, l := range h {
			s := fmt.Sprint(l.Number)
			if l.References {
				s += "*"
			}
			ls = append(ls, s)
		}
		hunks = append(hunks, strings.Join(ls, ","))
	}
	return strings.Join(hunks, " | ")
}

func TestPreviewPolicy(t *testing.T) {
	lines := func(refs ...int) string {
		var b strings.Builder
		for i := 1; i <= 20; i++ {
			text := fmt.Sprintf("line %d", i)
			for _, r := range refs {
				if r == i {
					text = fmt.Sprintf(`{"src": ["group:db"]}, // line %d`, i)
				}
			}
			b.WriteString(text + "\r\n")
		}
		return b.String()
	}
	cases := []struct {
		name string
		refs []int
		want string
	}{
		{"none", nil, ""},
		{"one in the middle", []int{10}, "8,9,10*,11,12"},
		{"first and last lines", []int{1, 20}, "1*,2,3 | 18,19,20*"},
		{"overlapping windows merge", []int{5, 8}, "3,4,5*,6,7,8*,9,10"},
		{"adjacent windows merge", []int{5, 10}, "3,4,5*,6,7,8,9,10*,11,12"},
		{"separate windows", []int{5, 11}, "3,4,5*,6,7 | 9,10,11*,12,13"},
	}
	for _, c := range cases {
		pv := previewPolicy([]byte(lines(c.refs...)), "group:db")
		if got := shown(pv); got != c.want || pv.References != len(c.refs) || pv.Truncated {
			t.Errorf("%s: %q (%d references, truncated %v), want %q", c.name, got, pv.References, pv.Truncated, c.want)
		}
		for _, h := range pv.Hunks {
			for _, l := range h {
				if strings.HasSuffix(l.Text, "\r") {
					t.Errorf("%s: line %d keeps its CR", c.name, l.Number)
				}
			}
		}
	}

	// A policy that references the group everywhere is cut short.
	var b strings.Builder
	for i := range 500 {
		fmt.Fprintf(&b, "\"group:db\", // %d\n", i)
	}
	pv := previewPolicy([]byte(b.String()), "group:db")
	n := 0
	for _, h := range pv.Hunks {
		n += len(h)
	}
	if n != previewMaxLines || !pv.Truncated || pv.References != 500 {
		t.Errorf("long policy: %d lines shown, truncated %v, %d references", n, pv.Truncated, pv.References)
	}
	// Exactly at the limit nothing is left out.
	pv = previewPolicy([]byte(strings.Repeat("\"group:db\",\n", previewMaxLines)), "group:db")
	if pv.Truncated {
		t.Errorf("a policy of %d lines was marked truncated", previewMaxLines)
	}
}
