package grants

import (
	"strings"

	"github.com/accessportal/portal/grants/database"
)

// likeContains is a LIKE pattern (with ESCAPE '\') matching text that
// contains s.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// emailContains is a condition that the email column contains part, taken
// literally (no wildcards) and lower-cased, as emails are stored; both
// databases compare case-sensitively. SQLite finds the substring with
// instr, twice as fast there as LIKE; PostgreSQL keeps LIKE, which its
// planner estimates well (with strpos it walks an index in order and
// fetches every row).
func (s *Store) emailContains(column, part string) (string, string) {
	part = strings.ToLower(part)
	if s.db.Dialect == database.SQLite {
		return "instr(" + column + ", ?) > 0", part
	}
	return column + ` LIKE ? ESCAPE '\'`, likeContains(part)
}
