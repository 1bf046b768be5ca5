package okta

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// Reading Okta's System Log as a backstop for event hooks, which Okta
// delivers "on a best-effort basis" with "no guarantee of maximum delay"
// (https://developer.okta.com/docs/concepts/event-hooks/).
//
// "System Log query" (https://developer.okta.com/docs/reference/system-log-query/):
// a polling request (since, no until, sortOrder ASCENDING) returns every
// event in the order Okta committed it and always has a rel="next" Link,
// even on an empty page; to transfer the log, "retrieve the next page of
// events through the link response header ... Continue this process until
// no events are returned", and "don't transfer data by manually paginating
// using since and until ... always follow the next links". The after value
// of the last next link is therefore the cursor to keep.

// SystemLogEventTypes are the event types that change who is present in
// Okta or which groups they are in: user lifecycle, account lock and
// password states, deletion, and group membership.
var SystemLogEventTypes = []string{
	"user.lifecycle.create",
	"user.lifecycle.activate",
	"user.lifecycle.reactivate",
	"user.lifecycle.deactivate",
	"user.lifecycle.suspend",
	"user.lifecycle.unsuspend",
	"user.lifecycle.delete.initiated",
	"user.account.lock",
	"user.account.unlock",
	"user.account.unlock_by_admin",
	"user.account.reset_password",
	"user.account.expire_password",
	"user.account.update_password",
	"user.account.update_profile",
	"group.user_membership.add",
	"group.user_membership.remove",
	"group.lifecycle.delete",
}

// SystemLogPageLimit is the page size asked for (Okta allows up to 1000).
const SystemLogPageLimit = 1000

// SystemLogCursor is where the next read starts: After, the opaque token of
// Okta's last next link, when there is one; otherwise Since, a time (the
// first read's start, or the last event's published).
type SystemLogCursor struct {
	After string
	Since time.Time
}

// IsZero reports whether the cursor was never set.
func (c SystemLogCursor) IsZero() bool { return c.After == "" && c.Since.IsZero() }

// SystemLogEvent is one System Log event the portal acts on: its uuid (for
// de-duplication against hooks), when it was published, its type, and the
// ids of the users and groups it targets.
type SystemLogEvent struct {
	UUID      string
	Published time.Time
	EventType string
	UserIDs   []string
	GroupIDs  []string
}

// SystemLogRead is what one read returns: the events in the order Okta
// committed them, and the cursor to store for the next read.
type SystemLogRead struct {
	Events []SystemLogEvent
	Next   SystemLogCursor
}

// SystemLogReader reads the lifecycle and membership events of Okta's
// System Log through okta-sdk-golang (the client needs okta.logs.read
// when it uses OAuth).
type SystemLogReader struct {
	client     *sdk.Client
	eventTypes []string
	limit      int64
}

// NewSystemLogReader returns a reader of SystemLogEventTypes with pages of
// SystemLogPageLimit events.
func NewSystemLogReader(client *sdk.Client) *SystemLogReader {
	return &SystemLogReader{client: client, eventTypes: SystemLogEventTypes, limit: SystemLogPageLimit}
}

// WithPageLimit returns the reader asking for pages of n events (1..1000).
func (r *SystemLogReader) WithPageLimit(n int) *SystemLogReader {
	c := *r
	c.limit = int64(min(max(n, 1), 1000))
	return &c
}

// Read returns every matching event after the cursor, following every next
// link until a page comes back empty, and the cursor of the next read. A
// zero cursor starts at since. On any failure it returns the error and no
// cursor, so the caller keeps the one it had and reads the same events
// again next time.
func (r *SystemLogReader) Read(ctx context.Context, from SystemLogCursor) (SystemLogRead, error) {
	if from.IsZero() {
		return SystemLogRead{}, errors.New("reading the Okta System Log: no cursor (give a start time)")
	}
	events, resp, err := r.client.LogEvent.GetLogs(ctx, r.firstQuery(from))
	var out []SystemLogEvent
	next := from
	for page := 1; ; page++ {
		if err != nil {
			return SystemLogRead{}, fmt.Errorf("reading the Okta System Log, page %d: %w", page, err)
		}
		for _, e := range events {
			out = append(out, systemLogEventFrom(e))
		}
		next = systemLogAdvance(next, resp, events)
		if len(events) == 0 || resp == nil || !resp.HasNextPage() {
			return SystemLogRead{Events: out, Next: next}, nil
		}
		if err := ctx.Err(); err != nil {
			return SystemLogRead{}, fmt.Errorf("reading the Okta System Log: %w", err)
		}
		events = nil
		resp, err = resp.Next(ctx, &events)
	}
}

func (r *SystemLogReader) firstQuery(from SystemLogCursor) *query.Params {
	opts := []query.ParamOptions{
		query.WithFilter(r.filter()),
		query.WithLimit(r.limit),
		query.WithSortOrder("ASCENDING"),
	}
	if from.After != "" {
		opts = append(opts, query.WithAfter(from.After))
	} else {
		opts = append(opts, query.WithSince(from.Since.UTC().Format("2006-01-02T15:04:05.000Z")))
	}
	return query.NewQueryParams(opts...)
}

// filter is `eventType eq "a" or eventType eq "b" ...`.
func (r *SystemLogReader) filter() string {
	parts := make([]string, len(r.eventTypes))
	for i, t := range r.eventTypes {
		parts[i] = fmt.Sprintf("eventType eq %q", t)
	}
	return strings.Join(parts, " or ")
}

// systemLogAdvance moves the cursor past a page: to the after value of its next
// link, or else past its last event's published time.
func systemLogAdvance(c SystemLogCursor, resp *sdk.Response, events []*sdk.LogEvent) SystemLogCursor {
	if resp != nil && resp.HasNextPage() {
		if u, err := url.Parse(resp.NextPage); err == nil {
			if after := u.Query().Get("after"); after != "" {
				return SystemLogCursor{After: after, Since: systemLogLastPublished(c.Since, events)}
			}
		}
	}
	if since := systemLogLastPublished(c.Since, events); !since.Equal(c.Since) {
		// Without a next link, resume just after the last event seen.
		return SystemLogCursor{Since: since.Add(time.Millisecond)}
	}
	return c
}

func systemLogLastPublished(since time.Time, events []*sdk.LogEvent) time.Time {
	for _, e := range events {
		if e.Published != nil && e.Published.After(since) {
			since = *e.Published
		}
	}
	return since
}

func systemLogEventFrom(e *sdk.LogEvent) SystemLogEvent {
	out := SystemLogEvent{UUID: e.Uuid, EventType: e.EventType}
	if e.Published != nil {
		out.Published = e.Published.UTC()
	}
	for _, t := range e.Target {
		if t == nil {
			continue
		}
		switch t.Type {
		case "User":
			out.UserIDs = append(out.UserIDs, t.Id)
		case "UserGroup":
			out.GroupIDs = append(out.GroupIDs, t.Id)
		}
	}
	return out
}
