package okta

import (
	"context"
	"log/slog"
	"time"

	"github.com/accessportal/portal/grants"
)

// PollerOptions configure the Okta poll loop.
type PollerOptions struct {
	Store     *grants.Store
	Directory *Directory
	Catalog   func() *grants.Catalog
	// Interval between incremental polls (PORTAL_SYNC_INTERVAL).
	Interval time.Duration
	// FullEvery is the period of full resyncs (default 1h, at least Interval).
	FullEvery time.Duration
	// OnChange is called after a poll that changed the snapshot.
	OnChange func(PollResult)
	// OnEvents is called when a poll found new events in Okta's System Log
	// (stored like hook deliveries, for the event processor).
	OnEvents func()
	Clock    func() time.Time
}

// Poller keeps the directory snapshot fresh: a full read at start and every
// FullEvery, incremental reads every Interval in between, and at once when
// Poke is called.
type Poller struct {
	o    PollerOptions
	poke chan bool // true = full
}

// NewPoller builds a poller; Run starts it.
func NewPoller(o PollerOptions) *Poller {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.FullEvery < o.Interval {
		o.FullEvery = max(time.Hour, o.Interval)
	}
	return &Poller{o: o, poke: make(chan bool, 1)}
}

// Poke asks for a poll now.
func (p *Poller) Poke(full bool) {
	select {
	case p.poke <- full:
	default:
	}
}

// Run polls until ctx ends. A failed poll changes nothing and is retried at
// the next tick (sooner, with backoff, when the interval is long).
func (p *Poller) Run(ctx context.Context) {
	var lastFull time.Time
	full := true
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-p.poke:
			full = full || f
		case <-timer.C:
		}
		if p.o.Clock().Sub(lastFull) >= p.o.FullEvery {
			full = true
		}
		res, err := p.o.Directory.Poll(ctx, p.o.Store, p.o.Catalog().OktaGroups(), full)
		next := p.o.Interval
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			slog.Warn("okta poll failed; snapshot unchanged", "full", full, "err", err)
			next = min(next, 30*time.Second)
		default:
			slog.Debug("okta poll", "full", full, "calls", res.Calls, "changed", res.Changed)
			if full {
				lastFull = p.o.Clock()
			}
			full = false
			if res.Changed && p.o.OnChange != nil {
				p.o.OnChange(res)
			}
			p.readSystemLog(ctx)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// readSystemLog is the backstop for event hooks: the events since the last
// read, stored for the event processor. A failed read keeps the cursor and
// is tried again at the next poll.
func (p *Poller) readSystemLog(ctx context.Context) {
	n, err := p.o.Directory.ReadSystemLog(ctx, p.o.Store)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			slog.Warn("okta System Log not read; trying again at the next poll", "err", err)
		}
	case n > 0:
		slog.Info("okta System Log: new events", "events", n)
		if p.o.OnEvents != nil {
			p.o.OnEvents()
		}
	}
}
