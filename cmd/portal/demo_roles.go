package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/accessportal/portal/grants"
)

// demoRoles says which part each demo person plays, for the demo's banner
// (and the README's table, which says the same).
var demoRoles = map[string]string{
	"alice@example.com": "admin: the catalog, the dashboard, revokes",
	"bob@example.com":   "employee: asks for prod-db",
	"carol@example.com": "approver of prod-db (Security)",
	"dave@example.com":  "on-call: prod-db auto-approved; approves staging-ssh (SRE)",
	"erin@example.com":  "employee: asks for prod-db; on call in the simulated PagerDuty",
	"frank@example.com": "has left: suspended in Okta, cannot sign in",
}

// demoTokenTTL is how long the CLI tokens the demo prints live.
const demoTokenTTL = 24 * time.Hour

// printDemoPeople prints who plays which role and, for each active person,
// a CLI token for `access` against this demo.
func printDemoPeople(ctx context.Context, w io.Writer, store *grants.Store, baseURL string, now time.Time) {
	fmt.Fprintf(w, "Who plays which role (sign in as any of them; the simulated Okta shows a user picker):\n")
	for _, p := range demoPeople {
		fmt.Fprintf(w, "  %-19s %-10s %-38s %s\n", p.email, p.status, strings.Join(p.groups, ", "), demoRoles[p.email])
	}
	fmt.Fprintf(w, "\nCLI tokens, valid %s (`portal token create --data DIR --user EMAIL` mints more):\n", demoTokenTTL)
	for _, p := range demoPeople {
		if p.status != grants.StatusActive {
			continue
		}
		secret, _, err := store.CreateToken(ctx, p.email, "demo CLI", demoTokenTTL, now)
		if err != nil {
			fmt.Fprintf(w, "  %-19s (no token: %v)\n", p.email, err)
			continue
		}
		fmt.Fprintf(w, "  %-19s ACCESS_URL=%s ACCESS_TOKEN=%s access ls\n", p.email, baseURL, secret)
	}
}

// tokenDatabaseEnv is the environment `portal token create` opens its
// database with: DIR/portal.db with --data DIR (the demo's database), else
// DATABASE_URL. It refuses a SQLite file that does not exist yet, rather
// than create an empty database whose tokens could act for nobody.
func tokenDatabaseEnv(env *cliEnv, dataDir string) (*cliEnv, error) {
	if dataDir == "" && strings.TrimSpace(env.getenv("DATABASE_URL")) != "" {
		return env, nil
	}
	file := "portal.db"
	if dataDir != "" {
		file = filepath.Join(dataDir, "portal.db")
	}
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		if dataDir != "" {
			return nil, fmt.Errorf("no portal database in %s: start `portal demo --data %s` first", dataDir, dataDir)
		}
		return nil, fmt.Errorf("DATABASE_URL is not set and ./portal.db does not exist: set DATABASE_URL, or use --data DIR for the demo's database")
	} else if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	url := "sqlite:" + file
	getenv := env.getenv
	return &cliEnv{stdout: env.stdout, stderr: env.stderr, getenv: func(k string) string {
		if k == "DATABASE_URL" {
			return url
		}
		return getenv(k)
	}}, nil
}
