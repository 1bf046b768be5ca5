package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/grants/evidence"
	"github.com/accessportal/portal/sync/tailnetfake"
)

func TestEvidenceExportVerifyTamper(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbDB) {
		seed := bytes.Repeat([]byte{3}, 32)
		env := []string{"DATABASE_URL=" + dbURLOf(t, db), "PORTAL_SIGNING_KEY=" + base64.StdEncoding.EncodeToString(seed)}
		day := time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)
		g := &grants.Grant{Resource: "prod-db", UserEmail: "alice@example.com", GroupName: "group:jit-prod-db", StartsAt: day,
			ExpiresAt: day.Add(time.Hour), Status: grants.GrantExpired, GrantedBy: "bob@example.com", Reason: "incident 7"}
		if err := db.Create(g).Error; err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"grant.admin-grant", "grant.expire"} {
			if err := grants.AppendAudit(context.Background(), db.DB, grants.Event{At: day, Actor: "bob@example.com", Action: a, Target: "grant:1"}); err != nil {
				t.Fatal(err)
			}
		}

		file := filepath.Join(t.TempDir(), "evidence.zip")
		if r := portal(t, env, "evidence", "export", "--since", "2026-04-01", "--until", "2026-04-03T00:00:00Z", "-o", file); r.code != 0 {
			t.Fatalf("export: exit %d %s", r.code, r.stderr)
		}
		r := portal(t, env, "evidence", "verify", file)
		if r.code != 0 || !strings.Contains(r.stdout, "signature valid") || !strings.Contains(r.stdout, "intact over 2 event(s)") {
			t.Fatalf("verify: exit %d %q %s", r.code, r.stdout, r.stderr)
		}
		pk := portal(t, env, "evidence", "pubkey")
		want := base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
		if pk.code != 0 || strings.TrimSpace(pk.stdout) != want {
			t.Fatalf("pubkey: exit %d %q, want %s", pk.code, pk.stdout, want)
		}
		// An auditor holds only the public key.
		if r := portal(t, []string{}, "evidence", "verify", "--pubkey", want, file); r.code != 0 {
			t.Fatalf("verify --pubkey: exit %d %s", r.code, r.stderr)
		}

		pkt, _ := os.ReadFile(file)
		tampered := filepath.Join(t.TempDir(), "tampered.zip")
		os.WriteFile(tampered, replaceInZip(t, pkt, "grants.csv", "incident 7", "incident 8"), 0o600)
		r = portal(t, []string{}, "evidence", "verify", "--pubkey", want, tampered)
		if r.code != 1 || !strings.Contains(r.stderr, "grants.csv") {
			t.Fatalf("verify of a tampered packet: exit %d %q; want 1 naming grants.csv", r.code, r.stderr)
		}

		// To stdout, the same packet (but for its generation time).
		out := portal(t, env, "evidence", "export", "--since", "2026-04-01", "--until", "2026-04-03")
		if out.code != 0 {
			t.Fatalf("export to stdout: exit %d %s", out.code, out.stderr)
		}
		v, err := evidence.Verify(strings.NewReader(out.stdout), int64(len(out.stdout)), ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey), nil)
		if err != nil || v.Events != 2 {
			t.Fatalf("stdout packet: %v %+v", err, v)
		}
		// Each export is itself audited.
		var n int64
		db.Model(&grants.AuditEvent{}).Where("action = ?", "evidence.export").Count(&n)
		if n != 2 {
			t.Errorf("%d evidence.export events, want 2", n)
		}
	})
}

func TestEvidenceUsage(t *testing.T) {
	env := []string{"DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "p.db")}
	for _, args := range [][]string{
		{"evidence"},
		{"evidence", "export", "--until", "2026-04-03"},
		{"evidence", "export", "--since", "yesterday", "--until", "2026-04-03"},
		{"evidence", "export", "--since", "2026-04-03", "--until", "2026-04-01"},
		{"evidence", "verify"},
	} {
		if r := portal(t, env, args...); r.code != 2 {
			t.Errorf("portal %v: exit %d %s, want 2", args, r.code, r.stderr)
		}
	}
	if r := portal(t, env, "evidence", "pubkey"); r.code != 1 || !strings.Contains(r.stderr, "PORTAL_SIGNING_KEY") {
		t.Errorf("pubkey without a key: exit %d %s", r.code, r.stderr)
	}
}

// replaceInZip rewrites one file of a zip.
func replaceInZip(t *testing.T, b []byte, name, old, new string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	found := false
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			found = strings.Contains(string(data), old)
			data = []byte(strings.Replace(string(data), old, new, 1))
		}
		w, _ := zw.Create(f.Name)
		w.Write(data)
	}
	zw.Close()
	if !found {
		t.Fatalf("%s holds no %q", name, old)
	}
	return buf.Bytes()
}

// TestEvidenceCarriesTheTailnetConfigurationLog: with a Tailscale credential
// in the environment the packet holds the tailnet's own configuration log of
// the period (the simulated tailnet records its policy writes); a credential
// without logs:configuration:read still gives a packet, with an error entry.
func TestEvidenceCarriesTheTailnetConfigurationLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbDB) {
		fake, url, stop, err := tailnetfake.Start(tailnetfake.Options{
			Tailnet: "example.com", APIKeys: []string{"tskey"}, Policy: demoPolicy,
			ScopedClients: []tailnetfake.OAuthClient{{ID: "cid", Secret: "cs", Scopes: []string{"policy_file"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		text, _ := fake.Policy()
		if err := fake.ReplacePolicy(append(text, '\n'), "gitops@example.com"); err != nil {
			t.Fatal(err)
		}
		since, until := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		file := filepath.Join(t.TempDir(), "evidence.zip")
		env := []string{"DATABASE_URL=" + dbURLOf(t, db), "TAILSCALE_API_URL=" + url, "TAILSCALE_API_KEY=tskey"}
		if r := portal(t, env, "evidence", "export", "--since", since, "--until", until, "-o", file); r.code != 0 {
			t.Fatalf("export: exit %d %s", r.code, r.stderr)
		}
		b, _ := os.ReadFile(file)
		if log := zipEntry(t, b, "tailscale-configuration-log.json"); !strings.Contains(log, "gitops@example.com") {
			t.Errorf("configuration log lacks the policy write:\n%s", log)
		}

		env = []string{"DATABASE_URL=" + dbURLOf(t, db), "TAILSCALE_API_URL=" + url, "TAILSCALE_OAUTH_CLIENT_ID=cid", "TAILSCALE_OAUTH_CLIENT_SECRET=cs"}
		if r := portal(t, env, "evidence", "export", "--since", since, "--until", until, "-o", file); r.code != 0 {
			t.Fatalf("export without the log scope: exit %d %s", r.code, r.stderr)
		}
		b, _ = os.ReadFile(file)
		if log := zipEntry(t, b, "tailscale-configuration-log.json"); !strings.Contains(log, `"error"`) || !strings.Contains(log, "logs:configuration:read") {
			t.Errorf("configuration log without the scope:\n%s", log)
		}
	})
}

// zipEntry returns one file of a zip as text.
func zipEntry(t *testing.T, b []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer f.Close()
	out, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
