package main

import (
	"context"
	"io"
	"time"

	"github.com/accessportal/portal/grants/evidence"
)

// writeEvidence writes the evidence packet of [since, until) for the web
// (GET /api/v1/evidence): the tailnet's configuration log through the
// portal's own credential, signed with PORTAL_SIGNING_KEY when set.
func (a *app) writeEvidence(ctx context.Context, w io.Writer, since, until time.Time) (*evidence.Summary, error) {
	p := &evidence.Packet{Store: evidence.NewDBStore(a.db.DB), ConfigLog: tailnetConfigLog{a.tailnet}, SigningKey: a.cfg.SigningKey}
	return p.Write(ctx, w, since, until)
}
