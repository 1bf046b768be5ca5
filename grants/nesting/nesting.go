// Package nesting refuses JSON and HuJSON text nested deeper than a limit
// before any parser sees it: the parsers recurse once per level, and text
// such as a megabyte of "[" would otherwise exhaust the stack, a fatal
// error that no recover catches.
package nesting

import "fmt"

// Max is the deepest nesting of objects and arrays the portal accepts in
// anything that comes in (catalog, API bodies, hooks).
const Max = 32

// Error says where text went deeper than the limit.
type Error struct {
	// Line is the 1-based line of the bracket that went too deep.
	Line int
	// Max is the limit.
	Max int
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d: nested deeper than %d levels", e.Line, e.Max)
}

// Check scans JSON or HuJSON text (strings, // and /* */ comments are
// skipped) and returns an *Error when objects and arrays nest deeper than
// max. It reads the text once, in constant space, and judges nothing else:
// malformed text is left to the parser.
func Check(text []byte, max int) error {
	depth, line := 0, 1
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\n':
			line++
		case '"':
			i = skipString(text, i)
		case '/':
			i, line = skipComment(text, i, line)
		case '[', '{':
			if depth++; depth > max {
				return &Error{Line: line, Max: max}
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}

// skipString returns the index of the quote closing the string that opens
// at i (or the last index when it never closes).
func skipString(text []byte, i int) int {
	for i++; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++
		case '"':
			return i
		case '\n':
			return i - 1 // the caller counts the line
		}
	}
	return len(text) - 1
}

// skipComment skips a comment starting at i, if one does, and returns the
// index of its last byte and the line it ends on.
func skipComment(text []byte, i, line int) (int, int) {
	if i+1 >= len(text) {
		return i, line
	}
	switch text[i+1] {
	case '/':
		for i += 2; i < len(text) && text[i] != '\n'; i++ {
		}
		return i - 1, line // the newline is counted by the caller
	case '*':
		for i += 2; i+1 < len(text); i++ {
			if text[i] == '*' && text[i+1] == '/' {
				return i + 1, line
			}
			if text[i] == '\n' {
				line++
			}
		}
		return len(text) - 1, line
	}
	return i, line
}
