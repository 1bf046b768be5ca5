package nesting

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	deep := strings.Repeat("[", 33) + strings.Repeat("]", 33)
	cases := []struct {
		name, text string
		line       int // 0: accepted
	}{
		{"32 levels", strings.Repeat("[", 32) + strings.Repeat("]", 32), 0},
		{"33 levels", deep, 1},
		{"objects count too", strings.Repeat(`{"a":`, 33) + "1" + strings.Repeat("}", 33), 1},
		{"brackets in strings", `["` + strings.Repeat("[", 100) + `"]`, 0},
		{"escaped quote in a string", `["\"` + strings.Repeat("[", 100) + `"]`, 0},
		{"brackets in comments", "// " + strings.Repeat("[", 100) + "\n/* " + strings.Repeat("{", 100) + " */ []", 0},
		{"the line of the level too deep", "{\n\"a\":\n" + deep, 3},
		{"a megabyte of [", strings.Repeat("[", 1_000_000), 1},
		{"unclosed string and comment", `["abc` + "\n/* [[[", 0},
	}
	for _, c := range cases {
		err := Check([]byte(c.text), Max)
		var e *Error
		switch {
		case c.line == 0 && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.line != 0 && (!errors.As(err, &e) || e.Line != c.line):
			t.Errorf("%s: %v, want refused at line %d", c.name, err, c.line)
		}
	}
}
