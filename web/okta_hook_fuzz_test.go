package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// hookSeed is an event hook delivery in the shape Okta documents ("Event
// hooks", developer.okta.com/docs/concepts/event-hooks/: eventType
// com.okta.event_hook, data.events[] of System Log events).
const hookSeed = `{
  "eventType": "com.okta.event_hook",
  "eventTypeVersion": "1.0",
  "cloudEventsVersion": "0.1",
  "source": "https://example.okta.com/api/v1/eventHooks/who8wbnobjRX7ksjA0g4",
  "eventId": "b5a188b9-5ece-4636-b041-482ffda96311",
  "data": {"events": [{
    "uuid": "5b8a1e2b-2c57-11ef-9b8e-d1f0f3f8c9a1",
    "published": "2026-11-21T12:00:00.000Z",
    "eventType": "user.lifecycle.deactivate",
    "version": "0",
    "displayMessage": "Deactivate Okta user",
    "severity": "INFO",
    "actor": {"id": "00u1", "type": "User", "alternateId": "admin@example.com"},
    "target": [{"id": "00u2", "type": "User", "alternateId": "bob@example.com", "displayName": "Bob"}]
  }]},
  "eventTime": "2026-11-21T12:00:01.000Z",
  "contentType": "application/json"
}`

// FuzzParseHookDelivery: whatever the body, parsing never panics; a
// delivery it accepts has events with a uuid, a type, a time and targets
// that are JSON.
func FuzzParseHookDelivery(f *testing.F) {
	for _, seed := range []string{
		hookSeed,
		`{"data": {"events": []}}`,
		`{"data": {"events": [{"uuid": "x", "eventType": "group.user_membership.add", "target": [{"id": "00g1", "type": "UserGroup"}, {"id": "00u1", "type": "User"}]}]}}`,
		strings.Repeat("[", 40),
		`{"data": {"events": [{"uuid": "", "eventType": ""}]}}`,
		`{"data": {"events": [{"uuid": "u", "eventType": "t", "published": "not a time"}]}}`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		_, events, _, err := parseHookDelivery(body, now)
		if err != nil {
			return
		}
		for _, e := range events {
			if e.UUID == "" || e.EventType == "" || e.Published.IsZero() || !e.ReceivedAt.Equal(now) {
				t.Fatalf("accepted an event without uuid, type or times: %+v", e)
			}
			if !json.Valid([]byte(e.Targets)) {
				t.Fatalf("targets are not JSON: %q", e.Targets)
			}
		}
	})
}
