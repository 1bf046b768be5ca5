package okta

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/accessportal/portal/grants"
)

// EventProcessorOptions configure the processing of stored Okta events.
type EventProcessorOptions struct {
	Store     *grants.Store
	Directory *Directory
	// Poll asks the poller for a poll now (full for deletions of groups).
	Poll func(full bool)
	// Stored is called as soon as a re-read user is in the snapshot, before
	// the event is marked processed: the reconciler's Wake, so that taking
	// out someone who left waits for no bookkeeping.
	Stored func()
	// AfterBatch runs after a batch changed the snapshot: the offboarding
	// cascade and a wake of the reconciler to record it.
	AfterBatch func(ctx context.Context)
	Clock      func() time.Time
	// Backstop is how often stored events are looked for without a
	// notification (another replica may have received them); default 2s.
	Backstop time.Duration
}

// EventProcessor applies Okta event hook deliveries: it never trusts the
// payload, but re-reads the user from Okta (or asks the poller to re-read
// groups) and updates the directory snapshot.
type EventProcessor struct {
	o      EventProcessorOptions
	notify chan struct{}
}

// NewEventProcessor builds a processor; Run starts it.
func NewEventProcessor(o EventProcessorOptions) *EventProcessor {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Backstop == 0 {
		o.Backstop = 2 * time.Second
	}
	return &EventProcessor{o: o, notify: make(chan struct{}, 1)}
}

// Notify says new events were stored.
func (p *EventProcessor) Notify() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// Run processes stored events until ctx ends.
func (p *EventProcessor) Run(ctx context.Context) {
	t := time.NewTicker(p.o.Backstop)
	defer t.Stop()
	for {
		if _, err := p.ProcessPending(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("processing Okta events", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-p.notify:
		case <-t.C:
		}
	}
}

// ProcessPending processes every stored, unprocessed event, oldest first,
// and returns how many it processed. An event whose re-read fails stays
// pending and is retried on the next call.
func (p *EventProcessor) ProcessPending(ctx context.Context) (int, error) {
	done := 0
	for {
		evs, err := grants.PendingOktaEvents(ctx, p.o.Store.DB().DB, 100)
		if err != nil || len(evs) == 0 {
			return done, err
		}
		changed, pollFull, pollIncr := false, false, false
		for _, ev := range evs {
			res, err := p.process(ctx, ev)
			if err != nil {
				// Keep it pending; what came before is applied.
				if changed && p.o.AfterBatch != nil {
					p.o.AfterBatch(ctx)
				}
				return done, fmt.Errorf("event %s (%s): %w", ev.UUID, ev.EventType, err)
			}
			changed = changed || res.changed
			pollFull = pollFull || res.pollFull
			pollIncr = pollIncr || res.pollIncremental
			if err := grants.MarkOktaEventProcessed(ctx, p.o.Store.DB().DB, ev.UUID, res.summary, p.o.Clock()); err != nil {
				return done, err
			}
			done++
		}
		if (pollFull || pollIncr) && p.o.Poll != nil {
			p.o.Poll(pollFull)
		}
		if changed && p.o.AfterBatch != nil {
			p.o.AfterBatch(ctx)
		}
	}
}

type eventResult struct {
	summary                   string
	changed                   bool
	pollFull, pollIncremental bool
}

// process applies one event.
func (p *EventProcessor) process(ctx context.Context, ev grants.OktaEvent) (eventResult, error) {
	var res eventResult
	userIDs := targetIDs(ev, "User")
	switch ev.EventType {
	case "user.lifecycle.deactivate", "user.lifecycle.suspend", "user.lifecycle.delete.initiated",
		"user.lifecycle.activate", "user.lifecycle.reactivate", "user.lifecycle.unsuspend", "user.lifecycle.create",
		"user.account.lock", "user.account.unlock", "user.account.unlock_by_admin", "user.account.reset_password",
		"user.account.expire_password", "user.account.update_password", "user.account.update_profile":
		// Statuses and logins change: the user is read again, whatever the
		// event said.
	case "group.user_membership.add", "group.user_membership.remove":
		res.pollIncremental = true
	case "group.lifecycle.delete", "group.profile.update":
		res.pollFull = ev.EventType == "group.lifecycle.delete"
		res.pollIncremental = true
		res.summary = "groups re-read by the poller"
		return res, nil
	default:
		res.summary = "ignored"
		return res, nil
	}
	var parts []string
	for _, id := range userIDs {
		s, err := p.refreshUser(ctx, id)
		if err != nil {
			return res, err
		}
		if p.o.Stored != nil {
			p.o.Stored()
		}
		res.changed = true
		parts = append(parts, s)
	}
	if res.pollIncremental {
		parts = append(parts, "memberships re-read by the poller")
	}
	res.summary = strings.Join(parts, "; ")
	return res, nil
}

// refreshUser re-reads one user from Okta into the snapshot.
func (p *EventProcessor) refreshUser(ctx context.Context, id string) (string, error) {
	u, found, err := p.o.Directory.User(ctx, id)
	if err != nil {
		return "", err
	}
	if !found {
		// Gone from Okta: keep the row as DELETED so the cascade knows who
		// left; memberships go.
		if err := p.o.Store.MarkDirectoryUserDeleted(ctx, id); err != nil {
			return "", err
		}
		return "user " + id + " deleted in Okta", nil
	}
	if err := p.o.Store.SaveDirectoryUser(ctx, u); err != nil {
		return "", err
	}
	return fmt.Sprintf("user %s (%s) is %s", u.Email, id, u.Status), nil
}

func targetIDs(ev grants.OktaEvent, typ string) []string {
	var ids []string
	for _, t := range ev.TargetList() {
		if strings.EqualFold(t.Type, typ) && t.ID != "" {
			ids = append(ids, t.ID)
		}
	}
	return ids
}
