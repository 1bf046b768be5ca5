package tailnetfake

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Actor is who made a change, in the shape of the configuration audit log's
// "actor" object.
type Actor struct {
	ID          string `json:"id"`
	Type        string `json:"type"` // "USER" or "OAUTH_CLIENT"
	LoginName   string `json:"loginName,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// Target is what a change applied to, in the shape of the configuration
// audit log's "target" object.
type Target struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`               // "TAILNET" or "NODE"
	Property string `json:"property,omitempty"` // "ACL", or the posture attribute's key
}

// ConfigLogEntry is one event of the configuration audit log, in the shape
// GET /api/v2/tailnet/{tailnet}/logging/configuration answers
// ("Configuration audit logging", https://tailscale.com/kb/1203/audit-logging:
// timestamp, action, actor, target, and for the policy file the previous
// and new text). The fake records its own policy writes (Old and New are
// the whole policy texts, so a writer can match an entry to the ETag it
// got), posture attribute changes and device deletions.
type ConfigLogEntry struct {
	EventGroupID string    `json:"eventGroupID"`
	EventTime    time.Time `json:"eventTime"`
	Type         string    `json:"type"`   // "CONFIG"
	Origin       string    `json:"origin"` // "API" or "ADMIN_CONSOLE"
	Actor        Actor     `json:"actor"`
	Target       Target    `json:"target"`
	Action       string    `json:"action"` // "CREATE", "UPDATE" or "DELETE"
	Old          any       `json:"old,omitempty"`
	New          any       `json:"new,omitempty"`
}

// configLogResponse is the endpoint's answer. The API does not page: it
// answers every event of the [start, end] window at once (documented by
// the API reference's query parameters start and end, both required).
type configLogResponse struct {
	Version string           `json:"version"`
	Tailnet string           `json:"tailnet"`
	Logs    []ConfigLogEntry `json:"logs"`
}

// ConfigLog returns every recorded configuration event, oldest first.
func (s *Server) ConfigLog() []ConfigLogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.configLog)
}

func (s *Server) recordLocked(origin string, actor Actor, target Target, action string, old, new any) {
	s.configLog = append(s.configLog, ConfigLogEntry{
		EventGroupID: randomHex(16),
		EventTime:    s.clock().UTC(),
		Type:         "CONFIG",
		Origin:       origin,
		Actor:        actor,
		Target:       target,
		Action:       action,
		Old:          old,
		New:          new,
	})
}

func (s *Server) userActor(login string) Actor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userActorLocked(login)
}

// userActorLocked is the actor for a login: the user's ID when the tailnet
// knows the user.
func (s *Server) userActorLocked(login string) Actor {
	a := Actor{ID: login, Type: "USER", LoginName: login}
	a.DisplayName, _, _ = strings.Cut(login, "@")
	for _, u := range s.users {
		if strings.EqualFold(u.LoginName, login) {
			a.ID, a.DisplayName = u.ID, u.DisplayName
		}
	}
	return a
}

// getConfigLog serves GET /api/v2/tailnet/{tailnet}/logging/configuration
// with the required RFC 3339 query parameters start and end (inclusive).
func (s *Server) getConfigLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, err1 := time.Parse(time.RFC3339Nano, q.Get("start"))
	end, err2 := time.Parse(time.RFC3339Nano, q.Get("end"))
	if q.Get("start") == "" || q.Get("end") == "" {
		writeError(w, http.StatusBadRequest, "start and end are required")
		return
	}
	if err1 != nil || err2 != nil {
		writeError(w, http.StatusBadRequest, "start and end must be RFC 3339 times")
		return
	}
	if end.Before(start) {
		writeError(w, http.StatusBadRequest, "end must not be before start")
		return
	}
	s.mu.Lock()
	logs := []ConfigLogEntry{}
	for _, e := range s.configLog {
		if !e.EventTime.Before(start) && !e.EventTime.After(end) {
			logs = append(logs, e)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, configLogResponse{Version: "1.1", Tailnet: s.tailnet, Logs: logs})
}
