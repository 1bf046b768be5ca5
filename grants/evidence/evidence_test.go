package evidence_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/grants/evidence"
)

// t0 is the start of the period under test: [t0, t0+24h).
var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr(t time.Time) *time.Time { return &t }

// world is a period's worth of activity stored in the database.
type world struct {
	db *database.DB
}

func (w *world) audit(t *testing.T, when time.Time, actor, action, target string, details map[string]any) {
	t.Helper()
	if err := grants.AppendAudit(context.Background(), w.db.DB, grants.Event{At: when, Actor: actor, Action: action, Target: target, Details: details}); err != nil {
		t.Fatal(err)
	}
}

func (w *world) create(t *testing.T, v any) {
	t.Helper()
	if err := w.db.Create(v).Error; err != nil {
		t.Fatal(err)
	}
}

// grantByRequest stores a request, its approvals and the grant it made.
func (w *world) grantByRequest(t *testing.T, user, resource, reason string, requested, approved time.Time, d time.Duration, approvers ...string) *grants.Grant {
	t.Helper()
	r := &grants.Request{Resource: resource, Requester: user, DurationSeconds: int64(d / time.Second), Reason: reason,
		Status: grants.RequestApproved, CreatedAt: requested, DecidedAt: ptr(approved)}
	w.create(t, r)
	for _, a := range approvers {
		w.create(t, &grants.Approval{RequestID: r.ID, Approver: a, Decision: grants.DecisionApprove, At: approved})
	}
	by := "system"
	if len(approvers) > 0 {
		by = approvers[len(approvers)-1]
	}
	g := &grants.Grant{RequestID: &r.ID, Resource: resource, UserEmail: user, GroupName: "group:jit-" + resource,
		StartsAt: approved, ExpiresAt: approved.Add(d), Status: grants.GrantActive, GrantedBy: by, Reason: reason}
	w.create(t, g)
	w.audit(t, requested, user, "request.create", "request:"+itoa(r.ID), map[string]any{"reason": reason})
	w.audit(t, approved, by, "request.approve", "request:"+itoa(r.ID), map[string]any{"grant": g.ID})
	return g
}

func (w *world) update(t *testing.T, g *grants.Grant, fields map[string]any) {
	t.Helper()
	if err := w.db.Model(&grants.Grant{}).Where("id = ?", g.ID).Updates(fields).Error; err != nil {
		t.Fatal(err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// seeded is what seed stored, for the assertions.
type seeded struct {
	expired, revoked, active, before, late *grants.Grant
	etags                                  []string
}

// seed stores a period with an expiry, a revocation, a grant still
// active, a late removal, an offboarding and a catalog change, and events
// before and after the period.
func seed(t *testing.T, db *database.DB) seeded {
	w := &world{db: db}
	var s seeded
	w.audit(t, at(-48*time.Hour), "admin@example.com", "catalog.replace", "catalog", map[string]any{"version": 1})
	s.before = w.grantByRequest(t, "old@example.com", "prod-db", "old work", at(-30*time.Hour), at(-30*time.Hour), time.Hour, "bob@example.com")
	w.update(t, s.before, map[string]any{"status": grants.GrantExpired, "applied_at": at(-30 * time.Hour).Add(time.Second), "removed_at": at(-29 * time.Hour).Add(time.Second)})

	// An expiry: approved at 1h, applied 2 s later, removed 1 s after expiry.
	s.expired = w.grantByRequest(t, "alice@example.com", "prod-db", "incident 42", at(55*time.Minute), at(time.Hour), time.Hour, "bob@example.com")
	w.update(t, s.expired, map[string]any{"status": grants.GrantExpired, "applied_at": at(time.Hour + 2*time.Second), "removed_at": at(2*time.Hour + time.Second)})
	w.audit(t, at(time.Hour+2*time.Second), "system", "sync.apply", "tailnet policy", map[string]any{"etag": "etag-1"})
	w.audit(t, at(2*time.Hour), "system", "grant.expire", "grant:"+itoa(s.expired.ID), nil)
	w.audit(t, at(2*time.Hour+time.Second), "system", "sync.apply", "tailnet policy", map[string]any{"etag": "etag-2"})

	// A revocation at 3h30 of a grant that would have lasted until 5h.
	s.revoked = w.grantByRequest(t, "carol@example.com", "billing", "=HYPERLINK(\"x\")", at(3*time.Hour), at(3*time.Hour), 2*time.Hour, "bob@example.com", "frank@example.com")
	w.update(t, s.revoked, map[string]any{"status": grants.GrantRevoked, "applied_at": at(3*time.Hour + time.Second),
		"removed_at": at(3*time.Hour + 30*time.Minute + 3*time.Second), "revoked_by": "dave@example.com", "revoke_reason": "done early"})
	w.audit(t, at(3*time.Hour+30*time.Minute), "dave@example.com", "grant.revoke", "grant:"+itoa(s.revoked.ID), map[string]any{"reason": "done early"})

	// A grant removed ten minutes after its expiry: late.
	s.late = w.grantByRequest(t, "gina@example.com", "prod-db", "migration", at(5*time.Hour), at(5*time.Hour), time.Hour, "bob@example.com")
	w.update(t, s.late, map[string]any{"status": grants.GrantExpired, "applied_at": at(5*time.Hour + time.Second), "removed_at": at(6*time.Hour + 10*time.Minute)})

	// An offboarding reported by an Okta event hook at 8h.
	w.create(t, &grants.OktaEvent{UUID: "ev-1", EventType: "user.lifecycle.deactivate", Published: at(8 * time.Hour), Targets: "[]", ReceivedAt: at(8*time.Hour + time.Second)})
	w.create(t, &grants.Offboarding{Email: "erin@example.com", OktaUserID: "00u1", OktaStatus: "DEPROVISIONED", EventUUID: "ev-1",
		EventReceivedAt: ptr(at(8*time.Hour + time.Second)), StartedAt: at(8*time.Hour + 2*time.Second), GrantsRevoked: 1, SessionsDeleted: 2,
		PolicyConfirmedAt: ptr(at(8*time.Hour + 5*time.Second))})
	w.audit(t, at(8*time.Hour+2*time.Second), "okta", "offboard.start", "offboarding:1", nil)
	w.audit(t, at(8*time.Hour+5*time.Second), "system", "offboard.confirmed", "offboarding:1", nil)

	// A catalog change at 12h.
	w.audit(t, at(12*time.Hour), "admin@example.com", "catalog.replace", "catalog", map[string]any{"version": 2, "before": "{}", "after": "{}"})

	// A direct grant still active at the end of the period.
	s.active = &grants.Grant{Resource: "billing", UserEmail: "hank@example.com", GroupName: "group:jit-billing", StartsAt: at(20 * time.Hour),
		ExpiresAt: at(30 * time.Hour), Status: grants.GrantActive, GrantedBy: "admin@example.com", Reason: "audit prep", AppliedAt: ptr(at(20*time.Hour + time.Second))}
	w.create(t, s.active)
	w.audit(t, at(20*time.Hour), "admin@example.com", "grant.admin-grant", "grant:"+itoa(s.active.ID), nil)
	w.audit(t, at(30*time.Hour), "system", "grant.expire", "grant:"+itoa(s.active.ID), nil) // after the period
	s.etags = []string{"etag-1", "etag-2"}
	return s
}

// configLog is a tailnet configuration log in memory: entries, or an error.
type configLog struct {
	entries []evidence.ConfigEntry
	err     error
}

func (c configLog) Entries(ctx context.Context, since, until time.Time) iter.Seq2[evidence.ConfigEntry, error] {
	return func(yield func(evidence.ConfigEntry, error) bool) {
		if c.err != nil {
			yield(evidence.ConfigEntry{}, c.err)
			return
		}
		for _, e := range c.entries {
			if !e.At.Before(since) && e.At.Before(until) && !yield(e, nil) {
				return
			}
		}
	}
}

// tailnetLog is the configuration log of seed's period: the portal's two
// policy writes (a second after the portal's own clock said) and a device
// approval by a person.
func tailnetLog() configLog {
	entry := func(when time.Time, action, etag string) evidence.ConfigEntry {
		raw, _ := json.Marshal(map[string]any{"eventTime": when, "type": "UPDATE", "action": action,
			"actor": map[string]string{"type": "USER", "loginName": "portal@example.com"}})
		return evidence.ConfigEntry{At: when, PolicyChange: action == "UPDATE_POLICY", NewETag: etag, Raw: raw}
	}
	return configLog{entries: []evidence.ConfigEntry{
		entry(at(time.Hour+3*time.Second), "UPDATE_POLICY", `"etag-1"`),
		entry(at(2*time.Hour+2*time.Second), "UPDATE_POLICY", "etag-2"),
		entry(at(4*time.Hour), "APPROVE_DEVICE", ""),
	}}
}

var seedKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

func writePacket(t *testing.T, db *database.DB, log evidence.ConfigLog) []byte {
	t.Helper()
	p := &evidence.Packet{Store: &evidence.DBStore{DB: db.DB, Batch: 2}, ConfigLog: log, SigningKey: seedKey,
		Now: func() time.Time { return at(36 * time.Hour) }}
	var buf bytes.Buffer
	if _, err := p.Write(context.Background(), &buf, t0, at(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func readCSV(t *testing.T, b []byte) []map[string]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func TestPacketAgreesWithTheDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := seed(t, db)
		pkt := writePacket(t, db, tailnetLog())
		files := unzip(t, pkt)
		for _, name := range []string{"report.html", "audit.csv", "audit.json", "grants.csv", "offboardings.csv", "tailscale-configuration-log.json", "manifest.json", "manifest.sig"} {
			if _, ok := files[name]; !ok {
				t.Errorf("packet lacks %s", name)
			}
		}

		// grants.csv: exactly the grants active at some moment of the period.
		gs := readCSV(t, files["grants.csv"])
		var ids []string
		for _, g := range gs {
			ids = append(ids, g["id"])
		}
		want := []string{itoa(s.expired.ID), itoa(s.revoked.ID), itoa(s.late.ID), itoa(s.active.ID)}
		if !slices.Equal(ids, want) {
			t.Fatalf("grants.csv ids %v, want %v (not the grant removed before the period)", ids, want)
		}
		if first := strings.SplitN(string(files["grants.csv"]), ",", 2)[0]; first != "id" {
			t.Errorf("grants.csv starts with %q, want the id column", first)
		}
		e := gs[0]
		if e["requester"] != "alice@example.com" || e["reason"] != "incident 42" || e["approvers"] != "bob@example.com" ||
			e["seconds_approval_to_applied"] != "2.000" || e["seconds_expiry_to_removed"] != "1.000" ||
			e["requested"] != at(55*time.Minute).Format(time.RFC3339Nano) || e["kind"] != "request" {
			t.Errorf("expired grant row: %v", e)
		}
		r := gs[1]
		if r["revoked_by"] != "dave@example.com" || r["seconds_revocation_to_removed"] != "3.000" || r["seconds_expiry_to_removed"] != "" ||
			r["approvers"] != "bob@example.com frank@example.com" || r["reason"] != `'=HYPERLINK("x")` {
			t.Errorf("revoked grant row: %v", r)
		}
		if a := gs[3]; a["kind"] != "direct" || a["approvers"] != "admin@example.com" || a["removed"] != "" {
			t.Errorf("direct grant row: %v", a)
		}

		// offboardings.csv: the one offboarding, 5 s from Okta's event to removal.
		obs := readCSV(t, files["offboardings.csv"])
		if len(obs) != 1 || obs[0]["email"] != "erin@example.com" || obs[0]["seconds_event_to_removed"] != "5.000" || obs[0]["detected_by"] != "event hook" {
			t.Errorf("offboardings.csv: %v", obs)
		}

		// audit.json: the period's events, with a verified chain anchored on
		// the last event before the period.
		var aj struct {
			Chain  evidence.ChainInfo
			Events []grants.AuditRecord
		}
		if err := json.Unmarshal(files["audit.json"], &aj); err != nil {
			t.Fatal(err)
		}
		var inPeriod []grants.AuditEvent
		db.Where("at >= ? AND at < ?", t0, at(24*time.Hour)).Order("id").Find(&inPeriod)
		var before grants.AuditEvent
		db.Where("at < ?", t0).Order("id DESC").Limit(1).Find(&before)
		var total int64
		db.Model(&grants.AuditEvent{}).Where("id <= ?", inPeriod[len(inPeriod)-1].ID).Count(&total)
		if len(aj.Events) != len(inPeriod) || aj.Chain.Events != int64(len(inPeriod)) || aj.Chain.Anchor != before.Hash ||
			aj.Chain.Head != inPeriod[len(inPeriod)-1].Hash || !aj.Chain.Verification.OK || aj.Chain.Verification.Checked != total {
			t.Errorf("audit.json chain %+v with %d events; want %d events anchored on %s, %d checked", aj.Chain, len(aj.Events), len(inPeriod), before.Hash, total)
		}
		if rows := readCSV(t, files["audit.csv"]); len(rows) != len(inPeriod) || rows[0]["hash"] != inPeriod[0].Hash {
			t.Errorf("audit.csv has %d rows, want %d", len(rows), len(inPeriod))
		}

		// The configuration log: both policy writes matched.
		var cl struct {
			Entries []struct {
				PortalAuditEvent *int64
			}
			Matched, PortalPolicyWrites int64
			Error                       any
		}
		if err := json.Unmarshal(files["tailscale-configuration-log.json"], &cl); err != nil {
			t.Fatalf("configuration log: %v\n%s", err, files["tailscale-configuration-log.json"])
		}
		if len(cl.Entries) != 3 || cl.Matched != 2 || cl.PortalPolicyWrites != 2 || cl.Error != nil || cl.Entries[0].PortalAuditEvent == nil || cl.Entries[2].PortalAuditEvent != nil {
			t.Errorf("configuration log: %+v", cl)
		}

		report := string(files["report.html"])
		for _, want := range []string{"2026-03-01 00:00:00 UTC", "incident 42", "gina@example.com", "erin@example.com",
			"2 of the portal's 2 policy writes were matched", "No grant in the period was approved by the person who requested it",
			"does not record refused attempts", "<svg", ">Attention<"} {
			if !strings.Contains(report, want) {
				t.Errorf("report.html lacks %q", want)
			}
		}
		if strings.Contains(report, "<script") {
			t.Error("report.html has a script")
		}

		v, err := evidence.Verify(bytes.NewReader(pkt), int64(len(pkt)), seedKey.Public().(ed25519.PublicKey), nil)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !v.SignatureChecked || !v.ChainChecked || v.Files != 6 || v.Events != int64(len(inPeriod)) {
			t.Errorf("verification %+v", v)
		}
	})
}

// rezip rebuilds a packet with edit applied to its files.
func rezip(t *testing.T, pkt []byte, edit func(files map[string][]byte)) []byte {
	t.Helper()
	files := unzip(t, pkt)
	edit(files)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fw, _ := zw.Create(n)
		fw.Write(files[n])
	}
	zw.Close()
	return buf.Bytes()
}

func TestTamperingFailsVerification(t *testing.T) {
	db := dbtest.SQLite(t)
	seed(t, db)
	pkt := writePacket(t, db, tailnetLog())
	pub := seedKey.Public().(ed25519.PublicKey)
	if _, err := evidence.Verify(bytes.NewReader(pkt), int64(len(pkt)), pub, nil); err != nil {
		t.Fatalf("untouched packet: %v", err)
	}
	verify := func(b []byte, pub ed25519.PublicKey) error {
		_, err := evidence.Verify(bytes.NewReader(b), int64(len(b)), pub, nil)
		return err
	}
	for name := range unzip(t, pkt) {
		t.Run(name, func(t *testing.T) {
			bad := rezip(t, pkt, func(f map[string][]byte) {
				b := bytes.Clone(f[name])
				b[len(b)/2] ^= 1
				f[name] = b
			})
			err := verify(bad, pub)
			var ve *evidence.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify of an altered %s: %v, want a VerifyError", name, err)
			}
			wantFile := name
			if name == "manifest.json" {
				wantFile = "manifest.sig" // the signature no longer matches
			}
			if ve.File != wantFile {
				t.Errorf("Verify names %s (%v), want %s", ve.File, err, wantFile)
			}
		})
	}
	t.Run("signature removed", func(t *testing.T) {
		bad := rezip(t, pkt, func(f map[string][]byte) { delete(f, "manifest.sig") })
		if err := verify(bad, pub); err == nil || !strings.Contains(err.Error(), "manifest.sig") {
			t.Errorf("Verify without the signature: %v", err)
		}
		if err := verify(bad, nil); err != nil {
			t.Errorf("an unsigned packet without a key to check: %v", err)
		}
	})
	t.Run("file added", func(t *testing.T) {
		bad := rezip(t, pkt, func(f map[string][]byte) { f["extra.txt"] = []byte("x") })
		if err := verify(bad, pub); err == nil || !strings.Contains(err.Error(), "extra.txt") {
			t.Errorf("Verify with an extra file: %v", err)
		}
	})
	t.Run("event altered with the manifest rewritten", func(t *testing.T) {
		// Without a signature, rewriting the manifest hides the change from
		// the hashes; the chain inside audit.json still shows it.
		bad := rezip(t, pkt, func(f map[string][]byte) {
			f["audit.json"] = bytes.Replace(f["audit.json"], []byte(`"actor":"alice@example.com"`), []byte(`"actor":"mallory@example.com"`), 1)
			delete(f, "manifest.sig")
			var m evidence.Manifest
			json.Unmarshal(f["manifest.json"], &m)
			for i := range m.Files {
				m.Files[i].SHA256 = sha(f[m.Files[i].Name])
			}
			f["manifest.json"], _ = json.Marshal(m)
		})
		err := verify(bad, nil)
		if err == nil || !strings.Contains(err.Error(), "audit.json") || !strings.Contains(err.Error(), "altered") {
			t.Errorf("Verify of an altered event: %v", err)
		}
	})
}

func TestMissingLogScopeStillGivesAPacket(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seed(t, db)
		missing := &evidence.MissingScopeError{Scope: evidence.LogsScope, Err: errors.New("403 Forbidden")}
		pkt := writePacket(t, db, configLog{err: missing})
		if _, err := evidence.Verify(bytes.NewReader(pkt), int64(len(pkt)), seedKey.Public().(ed25519.PublicKey), nil); err != nil {
			t.Fatal(err)
		}
		files := unzip(t, pkt)
		var cl struct {
			Entries []json.RawMessage
			Error   struct{ Kind, Scope, Message string }
		}
		if err := json.Unmarshal(files["tailscale-configuration-log.json"], &cl); err != nil {
			t.Fatal(err)
		}
		if len(cl.Entries) != 0 || cl.Error.Kind != "missing-scope" || cl.Error.Scope != "logs:configuration:read" {
			t.Errorf("configuration log: %+v", cl)
		}
		report := string(files["report.html"])
		if !strings.Contains(report, "configuration log is not in this packet") || !strings.Contains(report, "logs:configuration:read") {
			t.Error("report.html does not say that the configuration log is missing and why")
		}
	})
}

func TestBrokenChainIsReported(t *testing.T) {
	db := dbtest.SQLite(t)
	seed(t, db)
	if err := db.Exec("UPDATE audit_events SET actor = 'mallory@example.com' WHERE id = 2").Error; err != nil {
		t.Fatal(err)
	}
	files := unzip(t, writePacket(t, db, tailnetLog()))
	var aj struct{ Chain evidence.ChainInfo }
	json.Unmarshal(files["audit.json"], &aj)
	if v := aj.Chain.Verification; v.OK || v.BrokenAt != 2 {
		t.Errorf("verification %+v, want broken at event 2", v)
	}
	if !strings.Contains(string(files["report.html"]), "broken at event 2") {
		t.Error("report.html does not name the broken event")
	}
}

func TestCSVCellsCannotRunFormulas(t *testing.T) {
	db := dbtest.SQLite(t)
	w := &world{db: db}
	for i, actor := range []string{"=cmd", "+1", "-2", "@sum", "\tx", "\rx", "plain"} {
		w.audit(t, at(time.Duration(i)*time.Minute), actor, "test.event", "t", nil)
	}
	files := unzip(t, writePacket(t, db, tailnetLog()))
	rows := readCSV(t, files["audit.csv"])
	var got []string
	for _, r := range rows {
		got = append(got, r["actor"])
	}
	want := []string{"'=cmd", "'+1", "'-2", "'@sum", "'\tx", "'\rx", "plain"}
	if !slices.Equal(got, want) {
		t.Errorf("actors %q, want %q", got, want)
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestParseTimeAndFileName(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-03-01":                t0,
		"2026-03-01T02:00:00+02:00": t0,
		" 2026-03-01T00:00:00Z ":    t0,
	} {
		if got, err := evidence.ParseTime(in); err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := evidence.ParseTime("yesterday"); err == nil {
		t.Error("ParseTime(yesterday) succeeded")
	}
	if got := evidence.FileName(t0, at(24*time.Hour)); got != "evidence-2026-03-01-2026-03-02.zip" {
		t.Errorf("FileName of whole days = %s", got)
	}
	if got := evidence.FileName(at(90*time.Minute), at(24*time.Hour)); got != "evidence-2026-03-01T013000Z-2026-03-02T000000Z.zip" {
		t.Errorf("FileName of times = %s", got)
	}
}

// failingLog yields its entries, then fails.
type failingLog struct {
	configLog
	err error
}

func (f failingLog) Entries(ctx context.Context, since, until time.Time) iter.Seq2[evidence.ConfigEntry, error] {
	return func(yield func(evidence.ConfigEntry, error) bool) {
		for e, err := range f.configLog.Entries(ctx, since, until) {
			if !yield(e, err) {
				return
			}
		}
		yield(evidence.ConfigEntry{}, f.err)
	}
}

func TestConfigLogFailuresAreRecorded(t *testing.T) {
	db := dbtest.SQLite(t)
	seed(t, db)
	for name, c := range map[string]struct {
		log      evidence.ConfigLog
		kind     string
		entries  int
		sentence string
	}{
		"not configured": {nil, "not-configured", 0, "no client for it configured"},
		"fails midway":   {failingLog{tailnetLog(), errors.New("502 Bad Gateway")}, "unavailable", 3, "Reading it failed: 502 Bad Gateway."},
	} {
		t.Run(name, func(t *testing.T) {
			files := unzip(t, writePacket(t, db, c.log))
			var cl struct {
				Entries []json.RawMessage
				Error   struct{ Kind string }
			}
			if err := json.Unmarshal(files["tailscale-configuration-log.json"], &cl); err != nil {
				t.Fatal(err)
			}
			if len(cl.Entries) != c.entries || cl.Error.Kind != c.kind {
				t.Errorf("%d entries, error %q; want %d, %q", len(cl.Entries), cl.Error.Kind, c.entries, c.kind)
			}
			if !strings.Contains(string(files["report.html"]), c.sentence) {
				t.Errorf("report.html lacks %q", c.sentence)
			}
		})
	}
}

func TestKeyedChain(t *testing.T) {
	db := dbtest.SQLite(t)
	key := bytes.Repeat([]byte{9}, 32)
	prev := grants.GenesisHash
	for i := range 5 {
		e := grants.AuditEvent{At: at(time.Duration(i) * time.Hour), Actor: "system", Action: "test.event", Target: "t", Details: "{}", PrevHash: prev}
		e.Hash = e.ChainHash(key)
		prev = e.Hash
		if err := db.Create(&e).Error; err != nil {
			t.Fatal(err)
		}
	}
	p := &evidence.Packet{Store: evidence.NewDBStore(db.DB), AuditKey: key, Now: func() time.Time { return at(25 * time.Hour) }}
	var buf bytes.Buffer
	sum, err := p.Write(context.Background(), &buf, t0, at(24*time.Hour))
	if err != nil || !sum.ChainOK || sum.AuditEvents != 5 {
		t.Fatalf("Write: %+v %v", sum, err)
	}
	pkt := buf.Bytes()
	verify := func(key []byte) (*evidence.Verification, error) {
		return evidence.Verify(bytes.NewReader(pkt), int64(len(pkt)), nil, key)
	}
	if v, err := verify(key); err != nil || !v.ChainChecked || v.Chain != evidence.ChainHMAC {
		t.Errorf("with the key: %+v %v", v, err)
	}
	if v, err := verify(nil); err != nil || v.ChainChecked {
		t.Errorf("without the key: %+v %v; want unchecked, no error", v, err)
	}
	if _, err := verify(bytes.Repeat([]byte{8}, 32)); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Errorf("with another key: %v", err)
	}
	// The plain chain does not verify events chained under a key.
	p.AuditKey = nil
	buf.Reset()
	if sum, err := p.Write(context.Background(), &buf, t0, at(24*time.Hour)); err != nil || sum.ChainOK {
		t.Errorf("plain verification of a keyed chain: %+v %v", sum, err)
	}
}
