package evidence

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/accessportal/portal/grants"
)

// Chain algorithms named in audit.json.
const (
	ChainSHA256 = "sha256"
	ChainHMAC   = "hmac-sha256"
)

// ChainInfo is the audit chain as audit.json states it.
type ChainInfo struct {
	// Algorithm is ChainSHA256 or ChainHMAC (PORTAL_AUDIT_KEY).
	Algorithm string `json:"algorithm"`
	// FirstID and LastID bound the period's events (0 when none).
	FirstID int64 `json:"firstId"`
	LastID  int64 `json:"lastId"`
	// Events is how many events the packet holds.
	Events int64 `json:"events"`
	// Anchor is the previous hash of the first event: the hash of the
	// last event before the period (the genesis hash at the start).
	Anchor string `json:"anchor"`
	// Head is the hash of the last event.
	Head string `json:"head"`
	// Verification is the portal's own check of the chain, from the first
	// event ever through the period's last.
	Verification ChainCheck `json:"verification"`
}

// ChainCheck is the result of walking the chain.
type ChainCheck struct {
	OK bool `json:"ok"`
	// Checked is how many events were checked, from the genesis.
	Checked int64 `json:"checked"`
	// BrokenAt is the first event whose link or hash does not match.
	BrokenAt int64  `json:"brokenAt,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// chainWalker checks events in chain order.
type chainWalker struct {
	key   []byte
	prev  string
	check ChainCheck
}

func newChainWalker(key []byte, prev string) *chainWalker {
	return &chainWalker{key: key, prev: prev, check: ChainCheck{OK: true}}
}

// next checks one event; after the first broken one it only counts.
func (c *chainWalker) next(e *grants.AuditEvent) {
	if !c.check.OK {
		return
	}
	switch {
	case e.PrevHash != c.prev:
		c.check.OK, c.check.BrokenAt, c.check.Reason = false, e.ID, "previous-hash link broken (an event before it was removed or altered)"
	case e.ChainHash(c.key) != e.Hash:
		c.check.OK, c.check.BrokenAt, c.check.Reason = false, e.ID, "content does not match its hash (altered)"
	default:
		c.check.Checked++
	}
	c.prev = e.Hash
}

// auditStats is what the report says about the period's events.
type auditStats struct {
	Events         int64
	Chain          ChainInfo
	PolicyWrites   int64
	Drifts         int64
	Holds          int64
	Revocations    int64
	CatalogChanges []catalogChange
	CatalogCount   int64
	// SelfApprovalsRefused counts attempts to approve one's own request.
	SelfApprovalsRefused int64
	actions              map[string]int64
}

type catalogChange struct {
	At      time.Time
	Actor   string
	Version string
}

func (s *auditStats) add(e *grants.AuditEvent, limit int) {
	s.Events++
	s.actions[e.Action]++
	switch e.Action {
	case PolicyWriteAction:
		s.PolicyWrites++
	case "sync.drift":
		s.Drifts++
	case "sync.hold":
		s.Holds++
	case "grant.revoke":
		s.Revocations++
	case grants.ActionSelfApprovalRefused:
		s.SelfApprovalsRefused++
	case "catalog.replace":
		s.CatalogCount++
		if len(s.CatalogChanges) < limit {
			var d struct{ Version json.Number }
			json.Unmarshal([]byte(e.Details), &d)
			s.CatalogChanges = append(s.CatalogChanges, catalogChange{At: e.At.UTC(), Actor: e.Actor, Version: d.Version.String()})
		}
	}
}

// writeAuditCSV writes audit.csv and, on the way, checks the chain from the
// genesis and gathers the report's numbers.
func (p *Packet) writeAuditCSV(ctx context.Context, w io.Writer, r *report) error {
	first, last, err := p.Store.AuditBounds(ctx, r.Since, r.Until)
	if err != nil {
		return err
	}
	c := &r.Audit.Chain
	c.Algorithm, c.FirstID, c.LastID = ChainSHA256, first, last
	if len(p.AuditKey) > 0 {
		c.Algorithm = ChainHMAC
	}
	walker := newChainWalker(p.AuditKey, grants.GenesisHash)
	if first > 1 {
		for e, err := range p.Store.AuditEvents(ctx, 0, first-1) {
			if err != nil {
				return err
			}
			walker.next(e)
		}
	}
	cw := csvWriter{csv.NewWriter(w)}
	if err := cw.row(grants.AuditCSVHeader...); err != nil {
		return err
	}
	if last > 0 {
		for e, err := range p.Store.AuditEvents(ctx, first-1, last) {
			if err != nil {
				return err
			}
			if r.Audit.Events == 0 {
				c.Anchor = e.PrevHash
			}
			walker.next(e)
			c.Head = e.Hash
			r.Audit.add(e, r.limit)
			if err := cw.row(formatInt(e.ID), e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Target, e.Details, e.PrevHash, e.Hash); err != nil {
				return err
			}
		}
	}
	c.Events, c.Verification = r.Audit.Events, walker.check
	cw.Flush()
	return cw.Error()
}

// auditJSONEvent is one event in audit.json: details as the JSON object
// stored, byte for byte, so that the hash can be recomputed from it
// (DetailsText holds details that are not an object).
type auditJSONEvent struct {
	ID          int64           `json:"id"`
	At          time.Time       `json:"at"`
	Actor       string          `json:"actor"`
	Action      string          `json:"action"`
	Target      string          `json:"target"`
	Details     json.RawMessage `json:"details,omitempty"`
	DetailsText *string         `json:"detailsText,omitempty"`
	PrevHash    string          `json:"prevHash"`
	Hash        string          `json:"hash"`
}

func newAuditJSONEvent(e *grants.AuditEvent) auditJSONEvent {
	j := auditJSONEvent{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target, PrevHash: e.PrevHash, Hash: e.Hash}
	if isCompactObject(e.Details) {
		j.Details = json.RawMessage(e.Details)
	} else {
		d := e.Details
		j.DetailsText = &d
	}
	return j
}

// storedDetails is the details string the hash was computed over.
func (j *auditJSONEvent) storedDetails() string {
	if j.DetailsText != nil {
		return *j.DetailsText
	}
	return string(j.Details)
}

// isCompactObject tells details that survive JSON encoding byte for byte:
// a valid object without insignificant white space or HTML characters.
func isCompactObject(s string) bool {
	if len(s) < 2 || s[0] != '{' || !json.Valid([]byte(s)) {
		return false
	}
	var b []byte
	enc, err := json.Marshal(json.RawMessage(s))
	if err != nil {
		return false
	}
	b = enc
	return string(b) == s
}

// writeAuditJSON writes audit.json: the chain's facts first, then the
// events, read again in the same id range.
func (p *Packet) writeAuditJSON(ctx context.Context, w io.Writer, r *report) error {
	head, err := json.MarshalIndent(struct {
		Since time.Time `json:"since"`
		Until time.Time `json:"until"`
		Chain ChainInfo `json:"chain"`
	}{r.Since, r.Until, r.Audit.Chain}, "", "  ")
	if err != nil {
		return err
	}
	// Open the object and leave it open for the events.
	if _, err := w.Write(head[:len(head)-2]); err != nil {
		return err
	}
	io.WriteString(w, ",\n  \"events\": [")
	c := r.Audit.Chain
	n := 0
	if c.LastID > 0 {
		for e, err := range p.Store.AuditEvents(ctx, c.FirstID-1, c.LastID) {
			if err != nil {
				return err
			}
			b, err := json.Marshal(newAuditJSONEvent(e))
			if err != nil {
				return fmt.Errorf("encoding audit event %d: %w", e.ID, err)
			}
			if n > 0 {
				io.WriteString(w, ",")
			}
			io.WriteString(w, "\n    ")
			if _, err := w.Write(b); err != nil {
				return err
			}
			n++
		}
	}
	if int64(n) != c.Events {
		return fmt.Errorf("the audit log changed while the packet was written: %d events, then %d", c.Events, n)
	}
	_, err = io.WriteString(w, "\n  ]\n}\n")
	return err
}
