package web

import (
	"encoding/json"
	"time"

	"github.com/accessportal/portal/grants"
)

// maxHookBody bounds one event hook delivery. Okta batches events; an
// authentic delivery of up to 10 MiB is always taken (Okta never retries
// a 4xx, so refusing one would lose its events).
const maxHookBody = 10 << 20

// hookDelivery is Okta's event hook envelope (the parts the portal reads).
// Events stay raw so that one malformed event is skipped, not the delivery.
type hookDelivery struct {
	EventType string `json:"eventType"`
	EventID   string `json:"eventId"`
	Data      struct {
		Events []json.RawMessage `json:"events"`
	} `json:"data"`
}

// hookEvent is one event of a delivery.
type hookEvent struct {
	UUID      string                   `json:"uuid"`
	EventType string                   `json:"eventType"`
	Published time.Time                `json:"published"`
	Target    []grants.OktaEventTarget `json:"target"`
}

// decodeHookEvent decodes one event; ok is false when it is malformed or
// lacks its uuid or type.
func decodeHookEvent(raw json.RawMessage) (e hookEvent, ok bool) {
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, false
	}
	return e, e.UUID != "" && e.EventType != ""
}
