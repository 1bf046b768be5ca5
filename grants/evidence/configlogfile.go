package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"
)

// configStats is what the report says about the configuration log.
type configStats struct {
	Entries, PolicyEntries, Matched int64
	Err                             *configLogError
}

// configLogEntry is one entry of tailscale-configuration-log.json with the
// portal's audit event of the same policy write, if any.
type configLogEntry struct {
	At               time.Time       `json:"at"`
	PortalAuditEvent *int64          `json:"portalAuditEvent,omitempty"`
	Entry            json.RawMessage `json:"entry"`
}

// writeConfigLog writes the tailnet's configuration log of the period and
// matches the portal's policy writes to its entries. The log's failure,
// a missing scope most often, is written as the file's error entry.
func (p *Packet) writeConfigLog(ctx context.Context, w io.Writer, r *report) error {
	head, _ := json.Marshal(struct {
		Source string    `json:"source"`
		Since  time.Time `json:"since"`
		Until  time.Time `json:"until"`
	}{"GET /api/v2/tailnet/{tailnet}/logging/configuration", r.Since, r.Until})
	w.Write(head[:len(head)-1])
	io.WriteString(w, ",\n\"entries\": [")
	s := &r.Config
	if p.ConfigLog == nil {
		s.Err = &configLogError{Kind: "not-configured", Message: "no Tailscale configuration log client is configured"}
	} else if err := p.copyConfigLog(ctx, w, r); err != nil {
		var se *storeError
		if errors.As(err, &se) || ctx.Err() != nil {
			return err
		}
		s.Err = newConfigLogError(err)
	}
	io.WriteString(w, "\n]")
	if s.Err != nil {
		b, _ := json.Marshal(s.Err)
		io.WriteString(w, ",\n\"error\": ")
		w.Write(b)
	}
	tail, _ := json.Marshal(struct {
		PolicyEntries int64 `json:"policyEntries"`
		PolicyWrites  int64 `json:"portalPolicyWrites"`
		Matched       int64 `json:"matched"`
	}{s.PolicyEntries, r.Audit.PolicyWrites, s.Matched})
	io.WriteString(w, ",\n")
	w.Write(tail[1:])
	_, err := io.WriteString(w, "\n")
	return err
}

// copyConfigLog writes the entries; an error returned is the log's.
func (p *Packet) copyConfigLog(ctx context.Context, w io.Writer, r *report) error {
	s := &r.Config
	for e, err := range p.ConfigLog.Entries(ctx, r.Since, r.Until) {
		if err != nil {
			return err
		}
		out := configLogEntry{At: e.At.UTC(), Entry: e.Raw}
		if len(out.Entry) == 0 || !json.Valid(out.Entry) {
			out.Entry = json.RawMessage("null")
		}
		if e.PolicyChange {
			s.PolicyEntries++
			id, err := p.Store.PolicyWriteNear(ctx, e.At, r.window, e.NewETag)
			if err != nil {
				return &storeError{err}
			}
			if id != 0 {
				s.Matched++
				out.PortalAuditEvent = &id
			}
		}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		if s.Entries > 0 {
			io.WriteString(w, ",")
		}
		io.WriteString(w, "\n")
		w.Write(b)
		s.Entries++
	}
	return nil
}

// storeError is a failure of the database, not of the configuration log.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }
