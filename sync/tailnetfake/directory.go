package tailnetfake

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// User is a member of the fake tailnet, in the JSON shape of the real API.
type User struct {
	ID                 string    `json:"id"`
	DisplayName        string    `json:"displayName"`
	LoginName          string    `json:"loginName"`
	ProfilePicURL      string    `json:"profilePicUrl"`
	TailnetID          string    `json:"tailnetId"`
	Created            time.Time `json:"created"`
	Type               string    `json:"type"`   // "member" or "shared"
	Role               string    `json:"role"`   // "owner", "admin", "member", …
	Status             string    `json:"status"` // "active", "idle", "suspended", …
	DeviceCount        int       `json:"deviceCount"`
	LastSeen           time.Time `json:"lastSeen"`
	CurrentlyConnected bool      `json:"currentlyConnected"`
}

// Device is a device of the fake tailnet. Only ID, Name and User need to be
// set; [Server.AddDevice] fills in the rest.
//
// A tagged device (Tags not empty) is owned by its tags; its User is still
// whoever registered it, as in the real API ("Tags": a tagged node's user
// is the one who authenticated it), so a device's User alone does not say
// it belongs to that person.
type Device struct {
	ID        string   // legacy numeric ID; generated when empty
	NodeID    string   // preferred ID; derived from ID when empty
	Name      string   // MagicDNS name, e.g. "laptop.example.ts.net"
	Hostname  string   // defaults to the first label of Name
	User      string   // owner's login name
	Tags      []string // e.g. "tag:server"
	Addresses []string // Tailscale IPs; generated when empty
	OS        string   // defaults to "linux"
	Created   time.Time
}

// deviceJSON is a Device in the JSON shape of the real API.
type deviceJSON struct {
	Addresses                 []string   `json:"addresses"`
	Authorized                bool       `json:"authorized"`
	BlocksIncomingConnections bool       `json:"blocksIncomingConnections"`
	ClientVersion             string     `json:"clientVersion"`
	ConnectedToControl        bool       `json:"connectedToControl"`
	Created                   time.Time  `json:"created"`
	Expires                   time.Time  `json:"expires"`
	Hostname                  string     `json:"hostname"`
	ID                        string     `json:"id"`
	IsEphemeral               bool       `json:"isEphemeral"`
	IsExternal                bool       `json:"isExternal"`
	KeyExpiryDisabled         bool       `json:"keyExpiryDisabled"`
	LastSeen                  *time.Time `json:"lastSeen,omitempty"`
	MachineKey                string     `json:"machineKey"`
	Name                      string     `json:"name"`
	NodeID                    string     `json:"nodeId"`
	NodeKey                   string     `json:"nodeKey"`
	OS                        string     `json:"os"`
	Tags                      []string   `json:"tags,omitempty"`
	TailnetLockError          string     `json:"tailnetLockError"`
	TailnetLockKey            string     `json:"tailnetLockKey"`
	UpdateAvailable           bool       `json:"updateAvailable"`
	User                      string     `json:"user"`
}

// keyLifetime is the default node key expiry of a tailnet.
const keyLifetime = 180 * 24 * time.Hour

// AddUser adds an active member with the given login name (e-mail) and
// returns its ID. Adding a login twice returns the existing user's ID.
func (s *Server) AddUser(login string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if strings.EqualFold(u.LoginName, login) {
			return u.ID
		}
	}
	s.nextID++
	display, _, _ := strings.Cut(login, "@")
	now := s.clock().UTC()
	u := User{
		ID:          "u" + strconv.FormatInt(s.nextID, 10) + "CNTRL",
		DisplayName: display,
		LoginName:   login,
		TailnetID:   s.tailnet,
		Created:     now,
		Type:        "member",
		Role:        "member",
		Status:      "active",
		LastSeen:    now,
	}
	s.users = append(s.users, u)
	return u.ID
}

// Users returns the tailnet's users.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, len(s.users))
	for i, u := range s.users {
		out[i] = s.withDeviceCountLocked(u)
	}
	return out
}

func (s *Server) withDeviceCountLocked(u User) User {
	u.DeviceCount = 0
	for _, d := range s.devices {
		if strings.EqualFold(d.User, u.LoginName) {
			u.DeviceCount++
		}
	}
	return u
}

// AddDevice adds a device and returns it with its defaults filled in.
func (s *Server) AddDevice(d Device) Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	if d.ID == "" {
		d.ID = strconv.FormatInt(s.nextID, 10)
	}
	if d.NodeID == "" {
		d.NodeID = "n" + d.ID + "CNTRL"
	}
	if d.Hostname == "" {
		d.Hostname, _, _ = strings.Cut(d.Name, ".")
	}
	if d.OS == "" {
		d.OS = "linux"
	}
	if len(d.Addresses) == 0 {
		n := len(s.devices) + 1
		d.Addresses = []string{
			"100.64." + strconv.Itoa(n/250) + "." + strconv.Itoa(n%250+1),
			"fd7a:115c:a1e0::" + strconv.FormatInt(int64(n), 16),
		}
	}
	if d.Created.IsZero() {
		d.Created = s.clock().UTC()
	}
	d.Tags = append([]string(nil), d.Tags...)
	s.devices = append(s.devices, d)
	return cloneDevice(d)
}

// Devices returns the tailnet's devices.
func (s *Server) Devices() []Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Device, len(s.devices))
	for i, d := range s.devices {
		out[i] = cloneDevice(d)
	}
	return out
}

func cloneDevice(d Device) Device {
	d.Tags = append([]string(nil), d.Tags...)
	d.Addresses = append([]string(nil), d.Addresses...)
	return d
}

func (d Device) toJSON() deviceJSON {
	return deviceJSON{
		Addresses:          append([]string(nil), d.Addresses...),
		Authorized:         true,
		ClientVersion:      "1.80.0",
		ConnectedToControl: true,
		Created:            d.Created,
		Expires:            d.Created.Add(keyLifetime),
		Hostname:           d.Hostname,
		ID:                 d.ID,
		MachineKey:         "mkey:" + d.NodeID,
		Name:               d.Name,
		NodeID:             d.NodeID,
		NodeKey:            "nodekey:" + d.NodeID,
		OS:                 d.OS,
		Tags:               append([]string(nil), d.Tags...),
		User:               d.User,
	}
}

// findDeviceLocked returns the index of the device with the given ID or
// node ID (the real API accepts both), or -1.
func (s *Server) findDeviceLocked(id string) int {
	for i, d := range s.devices {
		if d.ID == id || d.NodeID == id {
			return i
		}
	}
	return -1
}

// listDevices serves GET /api/v2/tailnet/{tailnet}/devices.
func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := make([]deviceJSON, 0, len(s.devices))
	for _, d := range s.devices {
		out = append(out, d.toJSON())
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"devices": out})
}

// getDevice serves GET /api/v2/device/{id}.
func (s *Server) getDevice(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := s.findDeviceLocked(r.PathValue("id"))
	var d deviceJSON
	if i >= 0 {
		d = s.devices[i].toJSON()
	}
	s.mu.Unlock()
	if i < 0 {
		writeError(w, http.StatusNotFound, "device not found")
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// deleteDevice serves DELETE /api/v2/device/{id}; the deletion is
// recorded in the configuration log and the device's attributes go with it.
func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := s.findDeviceLocked(r.PathValue("id"))
	if i >= 0 {
		d := s.devices[i]
		s.devices = append(s.devices[:i:i], s.devices[i+1:]...)
		delete(s.attributes, d.NodeID)
		s.recordLocked("API", callerOf(r.Context()), nodeTarget(d, ""), "DELETE", d.Name, nil)
	}
	s.mu.Unlock()
	if i < 0 {
		writeError(w, http.StatusNotFound, "device not found")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// listUsers serves GET /api/v2/tailnet/{tailnet}/users, filtered by the
// optional "type" and "role" query parameters.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	userType, role := r.URL.Query().Get("type"), r.URL.Query().Get("role")
	s.mu.Lock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		if (userType == "" || u.Type == userType) && (role == "" || u.Role == role) {
			out = append(out, s.withDeviceCountLocked(u))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// getUser serves GET /api/v2/users/{id}.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	var found *User
	for _, u := range s.users {
		if u.ID == id {
			u = s.withDeviceCountLocked(u)
			found = &u
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		writeError(w, http.StatusNotFound, "user not found")
		return
	}
	writeJSON(w, http.StatusOK, found)
}
