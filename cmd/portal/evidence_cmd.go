package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/evidence"
)

const evidenceUsage = "evidence export --since T --until T [-o FILE] | evidence verify [--pubkey KEY] FILE | evidence pubkey"

func runEvidence(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 {
		return &usageError{"usage: portal " + evidenceUsage}
	}
	switch args[0] {
	case "export":
		return runEvidenceExport(ctx, env, args[1:])
	case "verify":
		return runEvidenceVerify(env, args[1:])
	case "pubkey":
		return runEvidencePubkey(env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(env.stderr, "usage: portal "+evidenceUsage)
		return nil
	}
	return &usageError{fmt.Sprintf("unknown evidence command %q; usage: portal %s", args[0], evidenceUsage)}
}

func runEvidenceExport(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "evidence export", "evidence export --since T --until T [-o FILE]\n\n"+
		"Writes the evidence packet of [since, until) as a zip to FILE (default stdout).\n"+
		"T is RFC 3339 (2026-03-01T00:00:00Z) or a date (2026-03-01, midnight UTC).\n"+
		"PORTAL_SIGNING_KEY, when set, signs the manifest.")
	sinceArg := fs.String("since", "", "start of the period (included)")
	untilArg := fs.String("until", "", "end of the period (excluded)")
	out := fs.String("o", "", "output file (default stdout)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest); err != nil {
		return err
	}
	since, err := parsePeriodTime("--since", *sinceArg)
	if err != nil {
		return err
	}
	until, err := parsePeriodTime("--until", *untilArg)
	if err != nil {
		return err
	}
	if !since.Before(until) {
		return &usageError{"--since must be before --until"}
	}
	key, err := signingKey(env)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	cl, err := configLogFromEnv(env.getenv)
	if err != nil {
		return err
	}
	p := &evidence.Packet{Store: evidence.NewDBStore(db.DB), SigningKey: key, ConfigLog: cl}
	sum, err := writePacketTo(ctx, env, p, *out, since, until)
	if err != nil {
		return err
	}
	err = grants.AppendAudit(ctx, db.DB, grants.Event{At: time.Now(), Actor: "cli", Action: "evidence.export", Target: "evidence packet",
		Details: map[string]any{"since": since, "until": until, "events": sum.AuditEvents, "grants": sum.Grants, "signed": sum.Signed}})
	if err != nil {
		return fmt.Errorf("auditing the export: %w", err)
	}
	if !sum.ChainOK {
		fmt.Fprintln(env.stderr, "warning: the audit chain does not verify; the packet's report says where it breaks")
	}
	return nil
}

// writePacketTo writes the packet to path, or to stdout when path is "";
// a file is written beside its final name and renamed when complete.
func writePacketTo(ctx context.Context, env *cliEnv, p *evidence.Packet, path string, since, until time.Time) (*evidence.Summary, error) {
	if path == "" || path == "-" {
		bw := bufio.NewWriterSize(env.stdout, 256<<10)
		sum, err := p.Write(ctx, bw, since, until)
		if err != nil {
			return nil, err
		}
		return sum, bw.Flush()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".evidence-*.zip")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	sum, err := p.Write(ctx, bw, since, until)
	if err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return sum, nil
}

// parsePeriodTime reads one end of the period.
func parsePeriodTime(flag, s string) (time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, &usageError{flag + " is required"}
	}
	t, err := evidence.ParseTime(s)
	if err != nil {
		return time.Time{}, &usageError{flag + " " + err.Error()}
	}
	return t, nil
}

// signingKey is PORTAL_SIGNING_KEY, or nil when unset.
func signingKey(env *cliEnv) (ed25519.PrivateKey, error) {
	v := strings.TrimSpace(env.getenv("PORTAL_SIGNING_KEY"))
	if v == "" {
		return nil, nil
	}
	return evidence.ParseSigningKey(v)
}

// auditKey is PORTAL_AUDIT_KEY, or nil when unset: base64 of at least 32
// bytes.
func auditKey(env *cliEnv) ([]byte, error) { return parseAuditKey(env.getenv("PORTAL_AUDIT_KEY")) }

// parseAuditKey reads PORTAL_AUDIT_KEY's value: nil when empty, else base64
// of at least 32 bytes.
func parseAuditKey(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, &configError{"PORTAL_AUDIT_KEY", "is not base64: " + err.Error()}
	}
	if len(b) < 32 {
		return nil, &configError{"PORTAL_AUDIT_KEY", fmt.Sprintf("holds %d bytes; at least 32 are needed", len(b))}
	}
	return b, nil
}

func runEvidenceVerify(env *cliEnv, args []string) error {
	fs := newFlags(env, "evidence verify", "evidence verify [--pubkey KEY] FILE\n\n"+
		"Checks a packet: every file's hash against the manifest, the signature, and the audit chain inside.\n"+
		"The public key is --pubkey or, when unset, that of PORTAL_SIGNING_KEY; with a key the packet must be signed.\n"+
		"An HMAC audit chain is checked with PORTAL_AUDIT_KEY.")
	pubArg := fs.String("pubkey", "", "base64 Ed25519 public key (portal evidence pubkey)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest, "FILE"); err != nil {
		return err
	}
	pub, err := verifyKey(env, *pubArg)
	if err != nil {
		return err
	}
	akey, err := auditKey(env)
	if err != nil {
		return err
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	v, err := evidence.Verify(f, st.Size(), pub, akey)
	if err != nil {
		return fmt.Errorf("%s fails verification: %w", rest[0], err)
	}
	printVerification(env.stdout, rest[0], v)
	return nil
}

func verifyKey(env *cliEnv, arg string) (ed25519.PublicKey, error) {
	if arg != "" {
		pub, err := evidence.ParsePublicKey(arg)
		if err != nil {
			return nil, &usageError{"--pubkey: " + err.Error()}
		}
		return pub, nil
	}
	key, err := signingKey(env)
	if err != nil || key == nil {
		return nil, err
	}
	return key.Public().(ed25519.PublicKey), nil
}

func printVerification(w io.Writer, name string, v *evidence.Verification) {
	sig := "not signed"
	switch {
	case v.SignatureChecked:
		sig = "signature valid"
	case v.Signed:
		sig = "signed, signature not checked (no public key given)"
	}
	chain := fmt.Sprintf("audit chain (%s) intact over %d event(s)", v.Chain, v.Events)
	if !v.ChainChecked {
		chain = fmt.Sprintf("audit chain (%s) not checked: PORTAL_AUDIT_KEY is needed", v.Chain)
	}
	fmt.Fprintf(w, "%s: %d file(s) match the manifest; %s; %s; period %s → %s\n", name, v.Files, sig, chain,
		v.Manifest.Since.Format(time.RFC3339), v.Manifest.Until.Format(time.RFC3339))
}

func runEvidencePubkey(env *cliEnv, args []string) error {
	fs := newFlags(env, "evidence pubkey", "evidence pubkey\n\nPrints the base64 Ed25519 public key of PORTAL_SIGNING_KEY.")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest); err != nil {
		return err
	}
	key, err := signingKey(env)
	if err != nil {
		return err
	}
	if key == nil {
		return errors.New("PORTAL_SIGNING_KEY is not set")
	}
	fmt.Fprintln(env.stdout, evidence.PublicKeyString(key.Public().(ed25519.PublicKey)))
	return nil
}
