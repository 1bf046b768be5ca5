package tailnetfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"time"
)

// Device posture attributes ("Device posture",
// https://tailscale.com/kb/1288/device-posture, and the API reference's
// "Device posture attributes": GET /api/v2/device/{id}/attributes,
// POST and DELETE /api/v2/device/{id}/attributes/{key}). Only "custom:"
// attributes can be written through the API; the "node:" ones are the
// client's own report. A custom attribute may carry an expiry, after which
// Tailscale removes it by itself: here an attribute past its expiry is gone
// from every read and from every policy test.

// attribute is a custom posture attribute of a device.
type attribute struct {
	value   any
	expiry  time.Time // zero: none
	comment string
}

// PostureAttribute is a device's posture attribute as the fake holds it.
type PostureAttribute struct {
	Value   any
	Expiry  time.Time // zero when the attribute has none
	Comment string
}

// customKey is the form of a writable attribute key.
var customKey = regexp.MustCompile(`^custom:[A-Za-z0-9_]{1,50}$`)

// liveAttributesLocked returns a device's custom attributes that have not
// expired, dropping expired ones for good.
func (s *Server) liveAttributesLocked(nodeID string) map[string]attribute {
	now := s.clock()
	attrs := s.attributes[nodeID]
	for k, a := range attrs {
		if !a.expiry.IsZero() && !now.Before(a.expiry) {
			delete(attrs, k)
		}
	}
	return attrs
}

// PostureAttributes returns the custom posture attributes of the device
// with the given ID or node ID that have not expired.
func (s *Server) PostureAttributes(deviceID string) map[string]PostureAttribute {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.findDeviceLocked(deviceID)
	if i < 0 {
		return nil
	}
	out := make(map[string]PostureAttribute)
	for k, a := range s.liveAttributesLocked(s.devices[i].NodeID) {
		out[k] = PostureAttribute{Value: a.value, Expiry: a.expiry, Comment: a.comment}
	}
	return out
}

// Allows reports whether the current policy certainly lets the device
// (ID or node ID) reach dst, a "target:port" such as "tag:prod:22", over
// TCP, judged as the control plane would: from the device's owner (or its
// tags, for a tagged device), with its live posture attributes for rules
// that require a srcPosture. An attribute past its expiry no longer counts,
// so access that needs it ends at the expiry with nobody removing it.
func (s *Server) Allows(deviceID, dst string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.findDeviceLocked(deviceID)
	if i < 0 {
		return false
	}
	d := s.devices[i]
	attrs := nodeAttributes(d)
	for k, a := range s.liveAttributesLocked(d.NodeID) {
		attrs[k] = a.value
	}
	m, err := modelOf(s.policy, s.users, s.devices)
	if err != nil {
		return false
	}
	sources := d.Tags
	if len(sources) == 0 {
		sources = []string{d.User}
	}
	for _, src := range sources {
		if m.allows(aclTest{Src: src, SrcPostureAttrs: attrs}, dst) == yes {
			return true
		}
	}
	return false
}

// nodeAttributes are the attributes the client reports about itself.
func nodeAttributes(d Device) map[string]any {
	return map[string]any{
		"node:os":        d.OS,
		"node:tsVersion": "1.80.0",
	}
}

// getAttributes serves GET /api/v2/device/{id}/attributes:
// {"attributes": {key: value}, "expiries": {key: time}}.
func (s *Server) getAttributes(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := s.findDeviceLocked(r.PathValue("id"))
	if i < 0 {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "device not found")
		return
	}
	attrs := nodeAttributes(s.devices[i])
	expiries := map[string]time.Time{}
	for k, a := range s.liveAttributesLocked(s.devices[i].NodeID) {
		attrs[k] = a.value
		if !a.expiry.IsZero() {
			expiries[k] = a.expiry.UTC()
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"attributes": attrs, "expiries": expiries})
}

// attributeRequest is the body of a posture attribute POST.
type attributeRequest struct {
	Value   any       `json:"value"`
	Expiry  time.Time `json:"expiry"`
	Comment string    `json:"comment"`
}

// setAttribute serves POST /api/v2/device/{id}/attributes/{key}. The value
// is a string, number or boolean; the expiry is optional (the zero time the
// Go client sends when none is given counts as none) and must lie in the
// future.
func (s *Server) setAttribute(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	req, problem := decodeAttribute(w, r, key)
	if problem != "" {
		writeError(w, http.StatusBadRequest, problem)
		return
	}
	if !req.Expiry.IsZero() && !req.Expiry.After(s.clock()) {
		writeError(w, http.StatusBadRequest, "expiry must be in the future")
		return
	}
	s.mu.Lock()
	i := s.findDeviceLocked(r.PathValue("id"))
	if i < 0 {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "device not found")
		return
	}
	d := s.devices[i]
	attrs := s.liveAttributesLocked(d.NodeID)
	if attrs == nil {
		attrs = make(map[string]attribute)
		s.attributes[d.NodeID] = attrs
	}
	old, had := attrs[key]
	attrs[key] = attribute{value: req.Value, expiry: req.Expiry, comment: req.Comment}
	action, oldValue := "CREATE", any(nil)
	if had {
		action, oldValue = "UPDATE", old.value
	}
	s.recordLocked("API", callerOf(r.Context()), nodeTarget(d, key), action, oldValue, req.Value)
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func decodeAttribute(w http.ResponseWriter, r *http.Request, key string) (attributeRequest, string) {
	var req attributeRequest
	if !customKey.MatchString(key) {
		return req, fmt.Sprintf("attribute key %q: only custom: attributes (custom: followed by up to 50 letters, digits or underscores) can be set", key)
	}
	body, ok := readBody(w, r)
	if !ok {
		return req, "reading request body"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return req, "invalid request body: " + err.Error()
	}
	switch v := req.Value.(type) {
	case string, bool:
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return req, "value: " + err.Error()
		}
		req.Value = f
	default:
		return req, "value must be a string, a number or a boolean"
	}
	return req, ""
}

// deleteAttribute serves DELETE /api/v2/device/{id}/attributes/{key}.
func (s *Server) deleteAttribute(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if !customKey.MatchString(key) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("attribute key %q: only custom: attributes can be deleted", key))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.findDeviceLocked(r.PathValue("id"))
	if i < 0 {
		writeError(w, http.StatusNotFound, "device not found")
		return
	}
	d := s.devices[i]
	attrs := s.liveAttributesLocked(d.NodeID)
	if old, had := attrs[key]; had {
		delete(attrs, key)
		s.recordLocked("API", callerOf(r.Context()), nodeTarget(d, key), "DELETE", old.value, nil)
	}
	w.WriteHeader(http.StatusOK)
}

func nodeTarget(d Device, property string) Target {
	return Target{ID: d.NodeID, Name: d.Name, Type: "NODE", Property: property}
}

// sortedAttributeKeys lists a device's live custom attribute keys in order,
// for the page.
func sortedAttributeKeys(attrs map[string]PostureAttribute) []string {
	return slices.Sorted(maps.Keys(attrs))
}
