// Package evidence writes and verifies evidence packets: one zip per period
// holding the audit log with its chain, the grants and offboardings, the
// tailnet's own configuration log and a report a person reads first, each
// file hashed in a manifest that an Ed25519 key may sign.
package evidence

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// The files of a packet.
const (
	ReportFile       = "report.html"
	AuditCSVFile     = "audit.csv"
	AuditJSONFile    = "audit.json"
	GrantsFile       = "grants.csv"
	OffboardingsFile = "offboardings.csv"
	ConfigLogFile    = "tailscale-configuration-log.json"
	ManifestFile     = "manifest.json"
	SignatureFile    = "manifest.sig"
)

// Packet writes evidence packets.
type Packet struct {
	// Store is the portal's database.
	Store Store
	// ConfigLog is the tailnet's configuration log; nil records that it is
	// not configured.
	ConfigLog ConfigLog
	// SigningKey signs the manifest when set (PORTAL_SIGNING_KEY).
	SigningKey ed25519.PrivateKey
	// AuditKey is PORTAL_AUDIT_KEY: when set the chain is verified as an
	// HMAC chain under it.
	AuditKey []byte
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Grace is how long after its end a grant may stay in the policy and
	// still count as removed on time (default 1 minute).
	Grace time.Duration
	// MatchWindow is how far apart in time a policy write and its
	// configuration log entry may be (default 2 minutes).
	MatchWindow time.Duration
	// ListLimit bounds each list in the report (default 50).
	ListLimit int
}

// Manifest is manifest.json.
type Manifest struct {
	Since       time.Time  `json:"since"`
	Until       time.Time  `json:"until"`
	GeneratedAt time.Time  `json:"generatedAt"`
	Files       []FileHash `json:"files"`
}

// FileHash is one file of the packet and its hex SHA-256.
type FileHash struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Summary is what a written packet says, for callers that log or audit it.
type Summary struct {
	Since, Until, GeneratedAt time.Time
	AuditEvents               int64
	ChainOK                   bool
	Grants                    int64
	Offboardings              int64
	Signed                    bool
}

// Write streams the packet of [since, until) to w as a zip. Memory stays
// constant whatever the period holds; a failure midway leaves a zip
// without a manifest, which Verify refuses.
func (p *Packet) Write(ctx context.Context, w io.Writer, since, until time.Time) (*Summary, error) {
	since, until = since.UTC(), until.UTC()
	if !since.Before(until) {
		return nil, fmt.Errorf("the period is empty: since %s is not before until %s", since.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	r := newReport(p, since, until, now().UTC().Truncate(time.Second))
	z := &packetZip{zw: zip.NewWriter(w), modified: r.GeneratedAt}
	steps := []struct {
		name  string
		write func(io.Writer) error
	}{
		{AuditCSVFile, func(w io.Writer) error { return p.writeAuditCSV(ctx, w, r) }},
		{AuditJSONFile, func(w io.Writer) error { return p.writeAuditJSON(ctx, w, r) }},
		{GrantsFile, func(w io.Writer) error { return p.writeGrants(ctx, w, r) }},
		{OffboardingsFile, func(w io.Writer) error { return p.writeOffboardings(ctx, w, r) }},
		{ConfigLogFile, func(w io.Writer) error { return p.writeConfigLog(ctx, w, r) }},
	}
	for _, s := range steps {
		if err := z.file(s.name, s.write); err != nil {
			return nil, fmt.Errorf("writing %s: %w", s.name, err)
		}
	}
	r.Files = append([]FileHash(nil), z.files...)
	if err := z.file(ReportFile, r.render); err != nil {
		return nil, fmt.Errorf("writing %s: %w", ReportFile, err)
	}
	if err := p.writeManifest(z, since, until, r.GeneratedAt); err != nil {
		return nil, err
	}
	if err := z.zw.Close(); err != nil {
		return nil, fmt.Errorf("finishing the zip: %w", err)
	}
	return &Summary{Since: since, Until: until, GeneratedAt: r.GeneratedAt, AuditEvents: r.Audit.Events,
		ChainOK: r.Audit.Chain.Verification.OK, Grants: r.Grants.Count, Offboardings: r.Offboard.Count, Signed: p.SigningKey != nil}, nil
}

// writeManifest adds manifest.json and, with a key, manifest.sig.
func (p *Packet) writeManifest(z *packetZip, since, until, generated time.Time) error {
	m := Manifest{Since: since, Until: until, GeneratedAt: generated, Files: z.files}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the manifest: %w", err)
	}
	b = append(b, '\n')
	if err := z.raw(ManifestFile, b); err != nil {
		return fmt.Errorf("writing %s: %w", ManifestFile, err)
	}
	if p.SigningKey == nil {
		return nil
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(p.SigningKey, b))
	if err := z.raw(SignatureFile, []byte(sig+"\n")); err != nil {
		return fmt.Errorf("writing %s: %w", SignatureFile, err)
	}
	return nil
}

// packetZip adds files to the zip and remembers their hashes.
type packetZip struct {
	zw       *zip.Writer
	modified time.Time
	files    []FileHash
}

func (z *packetZip) create(name string) (io.Writer, error) {
	return z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: z.modified})
}

// file streams one file through write, hashing it on the way.
func (z *packetZip) file(name string, write func(io.Writer) error) error {
	start := time.Now()
	fw, err := z.create(name)
	if err != nil {
		return err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(fw, h), 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	z.files = append(z.files, FileHash{Name: name, SHA256: hex.EncodeToString(h.Sum(nil))})
	slog.Debug("evidence file written", "file", name, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// raw adds a file that the manifest does not list.
func (z *packetZip) raw(name string, b []byte) error {
	fw, err := z.create(name)
	if err != nil {
		return err
	}
	_, err = fw.Write(b)
	return err
}

// errStop ends an iteration early without an error of its own.
var errStop = errors.New("stop")
