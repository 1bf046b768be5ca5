package grants

import "strings"

// likeContains is a LIKE pattern (with ESCAPE '\') matching text that
// contains s.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
