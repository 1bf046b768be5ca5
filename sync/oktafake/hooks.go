package oktafake

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Target is an actor or target of a System Log event: a User, a UserGroup, ...
type Target struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

// Event is one System Log event as Okta puts it in an event hook delivery.
// Zero fields get Okta's defaults when sent: a new UUID, Published now,
// Version "0", Severity "INFO", the usual displayMessage for the type, and
// the fake admin as Actor.
type Event struct {
	UUID           string
	Published      time.Time
	EventType      string // e.g. "user.lifecycle.deactivate", "group.user_membership.remove"
	Version        string
	DisplayMessage string
	Severity       string
	Actor          Target
	Target         []Target
	Outcome        string // "SUCCESS" when empty

	// Set when the event is committed, so every read shows the same values.
	transactionID string
	sessionID     string
}

func (e Event) outcome() string {
	if e.Outcome == "" {
		return "SUCCESS"
	}
	return e.Outcome
}

// displayMessages are the messages Okta's event catalog gives each type.
var displayMessages = map[string]string{
	"user.lifecycle.create":           "Create Okta user",
	"user.lifecycle.activate":         "Activate Okta user",
	"user.lifecycle.reactivate":       "Reactivate Okta user",
	"user.lifecycle.deactivate":       "Deactivate Okta user",
	"user.lifecycle.suspend":          "Suspend Okta user",
	"user.lifecycle.unsuspend":        "Unsuspend Okta user",
	"user.lifecycle.delete.initiated": "Delete Okta user",
	"user.account.lock":               "Max sign in attempts exceeded",
	"user.account.unlock":             "Unlock user account",
	"user.account.update_profile":     "Update user profile for Okta",
	"user.session.start":              "User login to Okta",
	"group.user_membership.add":       "Add user to group membership",
	"group.user_membership.remove":    "Remove user from group membership",
	"group.lifecycle.create":          "Create okta group",
	"group.lifecycle.delete":          "Delete okta group",
}

// MarshalJSON writes the event in Okta's LogEvent shape.
func (e Event) MarshalJSON() ([]byte, error) {
	targets := e.Target
	if targets == nil {
		targets = []Target{}
	}
	type detailed struct {
		Target
		DetailEntry any `json:"detailEntry"`
	}
	actor := detailed{Target: e.Actor}
	ts := make([]detailed, len(targets))
	for i, t := range targets {
		ts[i] = detailed{Target: t}
	}
	outcome := e.outcome()
	tx, session := e.transactionID, e.sessionID
	if tx == "" {
		tx, session = randomID(27), "trs"+randomID(22)
	}
	return json.Marshal(map[string]any{
		"uuid":            e.UUID,
		"published":       e.Published.UTC().Format(oktaTimeFormat),
		"eventType":       e.EventType,
		"version":         e.Version,
		"displayMessage":  e.DisplayMessage,
		"severity":        e.Severity,
		"legacyEventType": nil,
		"actor":           actor,
		"client": map[string]any{
			"userAgent":           map[string]any{"rawUserAgent": "oktafake", "os": "Unknown", "browser": "UNKNOWN"},
			"zone":                "null",
			"device":              "Unknown",
			"id":                  nil,
			"ipAddress":           "127.0.0.1",
			"geographicalContext": nil,
		},
		"device":                nil,
		"authenticationContext": map[string]any{"authenticationProvider": nil, "credentialProvider": nil, "credentialType": nil, "issuer": nil, "interface": nil, "authenticationStep": 0, "externalSessionId": session},
		"outcome":               map[string]any{"result": outcome, "reason": nil},
		"target":                ts,
		"transaction":           map[string]any{"type": "WEB", "id": tx, "detail": map[string]any{}},
		"debugContext":          map[string]any{"debugData": map[string]any{}},
		"securityContext":       map[string]any{"asNumber": nil, "asOrg": nil, "isp": nil, "domain": nil, "isProxy": nil},
		"insertionTimestamp":    nil,
	})
}

// UnmarshalJSON reads back an event written by MarshalJSON (for tests of
// hook receivers).
func (e *Event) UnmarshalJSON(b []byte) error {
	var raw struct {
		UUID           string   `json:"uuid"`
		Published      string   `json:"published"`
		EventType      string   `json:"eventType"`
		Version        string   `json:"version"`
		DisplayMessage string   `json:"displayMessage"`
		Severity       string   `json:"severity"`
		Actor          Target   `json:"actor"`
		Target         []Target `json:"target"`
		Outcome        struct {
			Result string `json:"result"`
		} `json:"outcome"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	published, err := time.Parse(time.RFC3339Nano, raw.Published)
	if err != nil && raw.Published != "" {
		return fmt.Errorf("published: %w", err)
	}
	*e = Event{
		UUID: raw.UUID, Published: published, EventType: raw.EventType, Version: raw.Version,
		DisplayMessage: raw.DisplayMessage, Severity: raw.Severity, Actor: raw.Actor,
		Target: raw.Target, Outcome: raw.Outcome.Result,
	}
	return nil
}

// HookEnvelope is the body of an event hook delivery.
type HookEnvelope struct {
	EventType          string `json:"eventType"` // always "com.okta.event_hook"
	EventTypeVersion   string `json:"eventTypeVersion"`
	CloudEventsVersion string `json:"cloudEventsVersion"`
	Source             string `json:"source"`
	EventID            string `json:"eventId"`
	Data               struct {
		Events []Event `json:"events"`
	} `json:"data"`
	EventTime   string `json:"eventTime"`
	ContentType string `json:"contentType"`
}

// adminActor is who the fake says made changes: the org's (fake) admin.
func (s *Server) adminActor() Target {
	return Target{ID: "00u" + s.orgID[3:], Type: "User", AlternateID: "admin@oktafake.invalid", DisplayName: "Okta Admin"}
}

// NewEvent returns an event of that type about targets, published now by the fake admin.
func (s *Server) NewEvent(eventType string, targets ...Target) Event {
	e := Event{EventType: eventType, Target: targets}
	s.fillEvent(&e)
	return e
}

func (s *Server) fillEvent(e *Event) {
	if e.UUID == "" {
		e.UUID = newUUID()
	}
	if e.Published.IsZero() {
		e.Published = s.now()
	}
	if e.Version == "" {
		e.Version = "0"
	}
	if e.Severity == "" {
		e.Severity = "INFO"
	}
	if e.DisplayMessage == "" {
		e.DisplayMessage = displayMessages[e.EventType]
	}
	if e.Actor.ID == "" {
		e.Actor = s.adminActor()
	}
	if e.transactionID == "" {
		e.transactionID = randomID(27)
		e.sessionID = "trs" + randomID(22)
	}
}

// UserTarget describes a user as an event target (type User, alternateId the login).
func (s *Server) UserTarget(idOrLogin string) (Target, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(idOrLogin)
	if u == nil {
		return Target{}, false
	}
	return s.userTargetLocked(u), true
}

// GroupTarget describes a group as an event target (type UserGroup).
func (s *Server) GroupTarget(id string) (Target, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil {
		return Target{}, false
	}
	return s.groupTargetLocked(g), true
}

func (s *Server) userTargetLocked(u *user) Target {
	return Target{ID: u.id, Type: "User", AlternateID: u.login, DisplayName: strings.TrimSpace(u.firstName + " " + u.lastName)}
}

func (s *Server) groupTargetLocked(g *group) Target {
	return Target{ID: g.id, Type: "UserGroup", AlternateID: "unknown", DisplayName: g.name}
}

// VerifyHook performs Okta's one-time event hook verification: a GET with
// an X-Okta-Verification-Challenge header, which the receiver must answer
// with 200 and the JSON {"verification": "<the challenge>"}.
func (s *Server) VerifyHook(ctx context.Context, hookURL string) error {
	challenge := randomID(40)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hookURL, nil)
	if err != nil {
		return fmt.Errorf("verifying event hook: %w", err)
	}
	req.Header.Set("X-Okta-Verification-Challenge", challenge)
	req.Header.Set("Accept", "application/json")
	resp, err := s.hookHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("verifying event hook: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("verifying event hook: %s answered %s", hookURL, resp.Status)
	}
	var answer struct {
		Verification string `json:"verification"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&answer); err != nil {
		return fmt.Errorf("verifying event hook: reading the answer: %w", err)
	}
	if answer.Verification != challenge {
		return fmt.Errorf("verifying event hook: %s answered verification %q, want the challenge %q", hookURL, answer.Verification, challenge)
	}
	return nil
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
