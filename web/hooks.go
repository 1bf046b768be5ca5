package web

import (
	"time"

	"github.com/accessportal/portal/grants"
)

// maxHookBody bounds one event hook delivery (Okta batches up to 50 events).
const maxHookBody = 1 << 20

// hookDelivery is Okta's event hook envelope (the parts the portal reads).
type hookDelivery struct {
	EventType string `json:"eventType"`
	EventID   string `json:"eventId"`
	Data      struct {
		Events []struct {
			UUID      string                   `json:"uuid"`
			EventType string                   `json:"eventType"`
			Published time.Time                `json:"published"`
			Target    []grants.OktaEventTarget `json:"target"`
		} `json:"events"`
	} `json:"data"`
}
