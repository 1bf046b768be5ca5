package grants_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants"
)

// FuzzParseCatalog: whatever the text, parsing never panics or overflows
// the stack; a catalog it accepts formats to text that parses back to the
// same catalog. Seeds: the
// repository's catalogs and the real-world policy files (HuJSON of the
// same dialect, which the parser must refuse cleanly).
func FuzzParseCatalog(f *testing.F) {
	for _, pattern := range []string{"testdata/catalog/*.hujson", "../sync/testdata/policies/*.hujson"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(`{"admins": ["A"], "resources": {"db": {"group": "group:db", "onCall": {"pagerdutySchedules": ["P1"]}}}}`))
	f.Add([]byte(strings.Repeat("[", 1000)))
	f.Add([]byte("// only a comment"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := grants.ParseCatalog("fuzz.hujson", text)
		if err != nil {
			return
		}
		out := c.Format()
		again, err := grants.ParseCatalog("formatted.hujson", out)
		if err != nil {
			t.Fatalf("the formatted catalog does not parse: %v\n%s", err, out)
		}
		if string(again.Format()) != string(out) {
			t.Fatalf("formatting is not stable:\n%s\n---\n%s", out, again.Format())
		}
	})
}
