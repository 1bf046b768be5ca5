package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/accessportal/portal/grants"
)

// systemLogOverlap is how far before the first read's start the System Log
// is first asked from: events that raced the first full poll are read once
// more (they are idempotent re-reads).
const systemLogOverlap = time.Minute

// ReadSystemLog reads Okta's System Log for lifecycle and membership events
// since the stored cursor and stores them as Okta events, beside those the
// event hook delivered (the same event is stored once): a lost or late hook
// costs at most one poll interval. The cursor moves with the events, in one
// transaction. It returns how many events were new.
func (d *Directory) ReadSystemLog(ctx context.Context, store *grants.Store) (int64, error) {
	after, since, ok, err := store.SystemLogCursor(ctx)
	if err != nil {
		return 0, err
	}
	now := d.clock().UTC()
	from := SystemLogCursor{After: after, Since: since}
	if !ok || from.IsZero() {
		from = SystemLogCursor{Since: now.Add(-systemLogOverlap)}
	}
	read, err := NewSystemLogReader(d.client).Read(ctx, from)
	if err != nil {
		return 0, fmt.Errorf("reading the Okta System Log: %w", err)
	}
	events := make([]grants.OktaEvent, 0, len(read.Events))
	for _, e := range read.Events {
		ev, err := oktaEvent(e, now)
		if err != nil {
			return 0, err
		}
		events = append(events, ev)
	}
	return store.SaveSystemLogEvents(ctx, events, read.Next.After, read.Next.Since, now)
}

// oktaEvent is a System Log event as a stored Okta event, its targets in
// the event hook's shape.
func oktaEvent(e SystemLogEvent, now time.Time) (grants.OktaEvent, error) {
	var targets []grants.OktaEventTarget
	for _, id := range e.UserIDs {
		targets = append(targets, grants.OktaEventTarget{ID: id, Type: "User"})
	}
	for _, id := range e.GroupIDs {
		targets = append(targets, grants.OktaEventTarget{ID: id, Type: "UserGroup"})
	}
	b, err := json.Marshal(targets)
	if err != nil {
		return grants.OktaEvent{}, fmt.Errorf("encoding event %s: %w", e.UUID, err)
	}
	return grants.OktaEvent{UUID: e.UUID, EventType: e.EventType, Published: e.Published.UTC(), Targets: string(b), ReceivedAt: now}, nil
}
