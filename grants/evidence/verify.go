package evidence

import (
	"archive/zip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/accessportal/portal/grants"
)

// Verification is what Verify checked.
type Verification struct {
	// Files is how many files matched their manifest hash.
	Files int
	// Signed is a packet with manifest.sig; SignatureChecked says whether
	// it was checked (a public key was given).
	Signed, SignatureChecked bool
	// Chain is the audit chain's algorithm; ChainChecked is false for an
	// HMAC chain verified without its key.
	Chain        string
	ChainChecked bool
	// Events is how many audit events the packet holds; Head their last hash.
	Events int64
	Head   string
	// Manifest is the packet's manifest.
	Manifest Manifest
}

// VerifyError names the part of a packet that fails.
type VerifyError struct {
	File   string
	Reason string
}

func (e *VerifyError) Error() string { return e.File + ": " + e.Reason }

func fail(file, format string, args ...any) error {
	return &VerifyError{File: file, Reason: fmt.Sprintf(format, args...)}
}

// Verify checks a packet: every file against its hash in manifest.json,
// no file unlisted, the signature in manifest.sig (required when pub is
// given; checked when present and pub is given), the audit chain inside
// audit.json (under auditKey when it is an HMAC chain) and audit.csv
// against it. The error is a *VerifyError naming what fails.
func Verify(r io.ReaderAt, size int64, pub ed25519.PublicKey, auditKey []byte) (*Verification, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fail("packet", "not a zip: %v", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return nil, fail(f.Name, "appears twice in the packet")
		}
		files[f.Name] = f
	}
	v := &Verification{}
	manifestBytes, err := readAll(files, ManifestFile)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(manifestBytes, &v.Manifest); err != nil {
		return nil, fail(ManifestFile, "not valid JSON: %v", err)
	}
	if err := v.checkSignature(files, manifestBytes, pub); err != nil {
		return nil, err
	}
	if err := v.checkHashes(files); err != nil {
		return nil, err
	}
	if err := v.checkChain(files, auditKey); err != nil {
		return nil, err
	}
	return v, nil
}

func readAll(files map[string]*zip.File, name string) ([]byte, error) {
	f, ok := files[name]
	if !ok {
		return nil, fail(name, "missing from the packet")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fail(name, "cannot be read: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	if err != nil {
		return nil, fail(name, "cannot be read: %v", err)
	}
	return b, nil
}

func (v *Verification) checkSignature(files map[string]*zip.File, manifest []byte, pub ed25519.PublicKey) error {
	_, v.Signed = files[SignatureFile]
	if !v.Signed {
		if pub != nil {
			return fail(SignatureFile, "missing: the packet is not signed, but a public key was given")
		}
		return nil
	}
	if pub == nil {
		return nil
	}
	b, err := readAll(files, SignatureFile)
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return fail(SignatureFile, "not base64: %v", err)
	}
	if !ed25519.Verify(pub, manifest, sig) {
		return fail(SignatureFile, "does not match manifest.json under the public key %s", KeyFingerprint(pub))
	}
	v.SignatureChecked = true
	return nil
}

func (v *Verification) checkHashes(files map[string]*zip.File) error {
	listed := map[string]bool{ManifestFile: true, SignatureFile: true}
	for _, m := range v.Manifest.Files {
		if listed[m.Name] {
			return fail(ManifestFile, "lists %s twice or lists itself", m.Name)
		}
		listed[m.Name] = true
		f, ok := files[m.Name]
		if !ok {
			return fail(m.Name, "listed in the manifest but missing from the packet")
		}
		rc, err := f.Open()
		if err != nil {
			return fail(m.Name, "cannot be read: %v", err)
		}
		h := sha256.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		if err != nil {
			return fail(m.Name, "cannot be read: %v", err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != m.SHA256 {
			return fail(m.Name, "SHA-256 %s differs from the manifest's %s (the file was altered)", got, m.SHA256)
		}
		v.Files++
	}
	for name := range files {
		if !listed[name] {
			return fail(name, "is not listed in the manifest")
		}
	}
	for _, name := range []string{ReportFile, AuditCSVFile, AuditJSONFile, GrantsFile, OffboardingsFile, ConfigLogFile} {
		if !listed[name] {
			return fail(name, "missing from the manifest")
		}
	}
	return nil
}

// checkChain walks audit.json's events, checking every link and hash and
// the stated head and count, and audit.csv's hashes against them, in
// constant memory.
func (v *Verification) checkChain(files map[string]*zip.File, key []byte) error {
	jf, err := files[AuditJSONFile].Open()
	if err != nil {
		return fail(AuditJSONFile, "cannot be read: %v", err)
	}
	defer jf.Close()
	cf, err := files[AuditCSVFile].Open()
	if err != nil {
		return fail(AuditCSVFile, "cannot be read: %v", err)
	}
	defer cf.Close()
	rows := csv.NewReader(cf)
	rows.ReuseRecord = true
	if _, err := rows.Read(); err != nil {
		return fail(AuditCSVFile, "no header: %v", err)
	}
	dec := json.NewDecoder(jf)
	var info ChainInfo
	var walker *chainWalker
	var events int64
	err = walkObject(dec, func(field string) error {
		switch field {
		case "chain":
			if err := dec.Decode(&info); err != nil {
				return err
			}
			v.Chain = info.Algorithm
			if info.Algorithm == ChainHMAC && len(key) == 0 {
				return nil // cannot be recomputed without the key
			}
			if info.Algorithm != ChainSHA256 && info.Algorithm != ChainHMAC {
				return fmt.Errorf("unknown chain algorithm %q", info.Algorithm)
			}
			if info.Algorithm == ChainSHA256 {
				key = nil
			}
			walker = newChainWalker(key, info.Anchor)
			return nil
		case "events":
			return walkArray(dec, func() error {
				var e auditJSONEvent
				if err := dec.Decode(&e); err != nil {
					return err
				}
				events++
				if walker != nil {
					ev := grants.AuditEvent{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target,
						Details: e.storedDetails(), PrevHash: e.PrevHash, Hash: e.Hash}
					walker.next(&ev)
					if !walker.check.OK {
						return fmt.Errorf("audit event %d: %s", walker.check.BrokenAt, walker.check.Reason)
					}
				}
				return checkCSVRow(rows, &e)
			})
		}
		var skip json.RawMessage
		return dec.Decode(&skip)
	})
	if err != nil {
		return fail(AuditJSONFile, "%v", err)
	}
	if walker == nil && v.Chain != ChainHMAC {
		return fail(AuditJSONFile, "no chain information")
	}
	if events != info.Events {
		return fail(AuditJSONFile, "holds %d events, its chain information says %d", events, info.Events)
	}
	if walker != nil && events > 0 && walker.prev != info.Head {
		return fail(AuditJSONFile, "the last event's hash is not the stated head %s", info.Head)
	}
	if _, err := rows.Read(); err != io.EOF {
		return fail(AuditCSVFile, "has more rows than audit.json has events")
	}
	v.ChainChecked, v.Events, v.Head = walker != nil, events, info.Head
	return nil
}

// checkCSVRow reads audit.csv's next row and compares it with the event.
func checkCSVRow(rows *csv.Reader, e *auditJSONEvent) error {
	row, err := rows.Read()
	if err != nil {
		return fmt.Errorf("audit.csv ends before event %d: %v", e.ID, err)
	}
	if len(row) != len(grants.AuditCSVHeader) {
		return fmt.Errorf("audit.csv row of event %d has %d cells", e.ID, len(row))
	}
	want := []string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"),
		safeCell(e.Actor), safeCell(e.Action), safeCell(e.Target), safeCell(e.storedDetails()), e.PrevHash, e.Hash}
	for i := range want {
		if row[i] != want[i] {
			return fmt.Errorf("audit.csv disagrees with audit.json on event %d (%s)", e.ID, grants.AuditCSVHeader[i])
		}
	}
	return nil
}

// walkObject calls field for every key of the JSON object dec is at; field
// must consume the value.
func walkObject(dec *json.Decoder, field func(string) error) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		k, ok := t.(string)
		if !ok {
			return errors.New("malformed object")
		}
		if err := field(k); err != nil {
			return err
		}
	}
	return expectDelim(dec, '}')
}

func walkArray(dec *json.Decoder, elem func() error) error {
	if err := expectDelim(dec, '['); err != nil {
		return err
	}
	for dec.More() {
		if err := elem(); err != nil {
			return err
		}
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t != d {
		return fmt.Errorf("want %v, found %v", d, t)
	}
	return nil
}
