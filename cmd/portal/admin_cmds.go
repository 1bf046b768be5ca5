package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
)

// openDatabase opens and migrates DATABASE_URL.
func openDatabase(ctx context.Context, env *cliEnv) (*database.DB, error) {
	db, err := database.Open(databaseURL(env.getenv))
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	key, err := auditKey(env)
	if err == nil {
		err = grants.NewStore(db).UseAuditKey(ctx, key)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func runMigrate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "migrate", "migrate\n\nApplies the database migrations to DATABASE_URL and exits.")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest); err != nil {
		return err
	}
	db, err := openDatabase(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(env.stderr, "migrations applied")
	return nil
}

func runToken(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "token", "token create --user EMAIL [--name NAME] [--ttl DURATION] [--data DIR]\n\nMints an API token for EMAIL on DATABASE_URL (or the demo's DIR/portal.db) and prints it alone on the last line of stdout.")
	data := fs.String("data", "", "the demo's data directory: mint the token on DIR/portal.db")
	user := fs.String("user", "", "email of the person the token acts for (required)")
	name := fs.String("name", "", "a name to recognise the token by")
	ttl := fs.Duration("ttl", 90*24*time.Hour, "lifetime of the token; 0 = never expires")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 || rest[0] != "create" {
		return &usageError{"usage: portal token create --user EMAIL [--name NAME] [--ttl DURATION]"}
	}
	if err := wantArgs(rest[1:]); err != nil {
		return err
	}
	if *user == "" {
		return &usageError{"--user EMAIL is required"}
	}
	if env, err = tokenDatabaseEnv(env, *data); err != nil {
		return err
	}
	db, err := openDatabase(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	secret, tok, err := grants.NewStore(db).CreateToken(ctx, *user, *name, *ttl, time.Now())
	if err != nil {
		return err
	}
	if _, err := grants.NewStore(db).LookupPerson(ctx, tok.Email); err != nil {
		fmt.Fprintf(env.stderr, "note: %s is not in the directory snapshot yet; the token answers 403 until Okta lists them as ACTIVE\n", tok.Email)
	}
	exp := "never expires"
	if tok.ExpiresAt != nil {
		exp = "expires " + tok.ExpiresAt.Format(time.RFC3339)
	}
	fmt.Fprintf(env.stderr, "token %d for %s (%s):\n", tok.ID, tok.Email, exp)
	fmt.Fprintln(env.stdout, secret)
	return nil
}

func runCatalog(ctx context.Context, env *cliEnv, args []string) error {
	const usage = "catalog export | catalog import FILE\n\nexport prints the catalog in use (PORTAL_CATALOG or the database's) as HuJSON;\nimport validates FILE and replaces the database catalog with it."
	if len(args) == 0 {
		return &usageError{"usage: portal " + usage}
	}
	fs := newFlags(env, "catalog", usage)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch rest[0] {
	case "export":
		if err := wantArgs(rest[1:]); err != nil {
			return err
		}
		db, err := openDatabase(ctx, env)
		if err != nil {
			return err
		}
		defer db.Close()
		store, err := grants.NewStore(db).OpenCatalogStore(ctx, env.getenv("PORTAL_CATALOG"))
		if err != nil {
			return err
		}
		_, err = env.stdout.Write(store.Current().Format())
		return err
	case "import":
		if err := wantArgs(rest[1:], "FILE"); err != nil {
			return err
		}
		body, err := os.ReadFile(rest[1])
		if err != nil {
			return fmt.Errorf("reading catalog: %w", err)
		}
		if _, err := grants.ParseCatalog(rest[1], body); err != nil {
			return err
		}
		if env.getenv("PORTAL_CATALOG") != "" {
			fmt.Fprintln(env.stderr, "note: PORTAL_CATALOG is set, so serve uses that file, not the database catalog imported here")
		}
		db, err := openDatabase(ctx, env)
		if err != nil {
			return err
		}
		defer db.Close()
		store, err := grants.NewStore(db).OpenCatalogStore(ctx, "")
		if err != nil {
			return err
		}
		c, err := store.Replace(ctx, rest[1], body, "", "cli", time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stderr, "catalog imported: %d synced group(s), %d resource(s)\n", len(c.Groups), len(c.Resources))
		return nil
	default:
		return &usageError{fmt.Sprintf("unknown catalog command %q; want export or import FILE", rest[0])}
	}
}

func runAudit(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "audit", "audit verify | audit rekey\n\n"+
		"verify checks the audit log's chain end to end: keyed (HMAC) under PORTAL_AUDIT_KEY when it is set, plain otherwise.\n"+
		"rekey turns an intact plain chain into the chain keyed by PORTAL_AUDIT_KEY, once.")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || (rest[0] != "verify" && rest[0] != "rekey") {
		return &usageError{"usage: portal audit verify | portal audit rekey"}
	}
	key, err := auditKey(env)
	if err != nil {
		return err
	}
	db, err := database.Open(databaseURL(env.getenv))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	store := grants.NewStore(db)
	if rest[0] == "rekey" {
		n, err := store.RekeyAudit(ctx, key)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "audit log re-hashed: %d event(s); chain %s\n", n, grants.AuditChainMode())
		return nil
	}
	grants.SetAuditKey(key)
	n, err := store.VerifyAudit(ctx)
	var ce *grants.ChainError
	if errors.As(err, &ce) {
		return fmt.Errorf("audit log broken after %d good event(s) of the %s chain: %w", n, grants.AuditChainMode(), err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "audit log intact: %d event(s) verified; chain %s\n", n, grants.AuditChainMode())
	return nil
}
