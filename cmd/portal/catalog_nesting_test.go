package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeepCatalogIsRefusedAtImportAndStart: a catalog file of 1 MB of "["
// is refused with a clear message by `portal catalog import` (on SQLite
// and PostgreSQL) and at `portal serve`'s start, never a crash.
func TestDeepCatalogIsRefusedAtImportAndStart(t *testing.T) {
	deep := filepath.Join(t.TempDir(), "deep.hujson")
	if err := os.WriteFile(deep, []byte(strings.Repeat("[", 1_000_000)), 0o600); err != nil {
		t.Fatal(err)
	}
	eachDatabaseURL(t, func(t *testing.T, dbURL string) {
		r := portal(t, []string{"DATABASE_URL=" + dbURL}, "catalog", "import", deep)
		if r.code != 1 || !strings.Contains(r.stderr, "deep.hujson:1: objects and lists nested deeper than 32 levels") {
			t.Fatalf("import: exit %d, stderr %.300q", r.code, r.stderr)
		}
	})
	r := portal(t, serveEnv(t, "PORTAL_CATALOG="+deep), "serve")
	if r.code != 1 || !strings.Contains(r.stderr, "nested deeper than 32 levels") || strings.Contains(r.stderr, "goroutine") {
		t.Fatalf("serve: exit %d, stderr %.300q", r.code, r.stderr)
	}
}
