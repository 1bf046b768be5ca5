package tailnetfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/tailscale/hujson"
)

// DefaultPolicy is the policy a new tailnet starts with when
// Options.Policy is nil, in the spirit of Tailscale's default: everyone may
// reach everything, and members may SSH into their own devices in check
// mode. `If-Match: ts-default` matches it until the first write.
const DefaultPolicy = `// Example/default policy for unrestricted connections.
{
	// Declare static groups of users. Use autogroups for all users or users with a specific role.
	// "groups": {
	//	"group:example": ["alice@example.com", "bob@example.com"],
	// },

	// Define the tags which can be applied to devices and by which users.
	// "tagOwners": {
	//	"tag:example": ["autogroup:admin"],
	// },

	// Define grants that govern access for users, groups, autogroups, tags,
	// Tailscale IP addresses, and subnet ranges.
	"grants": [
		// Allow all connections.
		// Comment this section out if you want to define specific restrictions.
		{"src": ["*"], "dst": ["*"], "ip": ["*"]},
	],

	// Define users and devices that can use Tailscale SSH.
	"ssh": [
		// Allow all users to SSH into their own devices in check mode.
		{
			"action": "check",
			"src":    ["autogroup:member"],
			"dst":    ["autogroup:self"],
			"users":  ["autogroup:nonroot", "root"],
		},
	],
}
`

// maxPolicySize bounds a policy POST body.
const maxPolicySize = 1 << 20

// preconditionFailed is the real API's message for a stale If-Match.
const preconditionFailed = "precondition failed, invalid old hash"

// etagOf returns the ETag of a policy text: its quoted hex SHA-256.
func etagOf(text []byte) string {
	sum := sha256.Sum256(text)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// getPolicy serves GET /api/v2/tailnet/{tailnet}/acl.
func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	text, etag := clone(s.policy), s.etag
	s.mu.Unlock()

	if d := r.URL.Query().Get("details"); d == "1" || d == "true" {
		var errs []string
		if p := policyProblem(text); p != "" {
			errs = []string{p}
		}
		w.Header().Set("ETag", etag)
		writeJSON(w, http.StatusOK, map[string]any{
			"acl":      base64.StdEncoding.EncodeToString(text),
			"warnings": []string{},
			"errors":   errs,
		})
		return
	}
	writePolicy(w, r, text, etag)
}

// setPolicy serves POST /api/v2/tailnet/{tailnet}/acl.
func (s *Server) setPolicy(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	ifMatch := strings.TrimSpace(r.Header.Get("If-Match"))

	s.mu.Lock()
	hook := s.beforeWrite
	s.mu.Unlock()
	if hook != nil {
		hook()
	}

	if err := s.applyPolicy(body, ifMatch, callerOf(r.Context()), "API"); err != nil {
		var ref *Refusal
		if errors.As(err, &ref) {
			writeJSON(w, ref.Status, errorBody{Message: ref.Message, Data: ref.data()})
			return
		}
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	text, etag := s.Policy()
	writePolicy(w, r, text, etag)
}

// Refusal is a policy write the control plane refused, in the real API's
// terms: the HTTP status, the message and, for failing tests, one entry per
// failing test (the test's src and its errors).
type Refusal struct {
	Status  int
	Message string
	Tests   []TestFailure
}

// TestFailure is a failing policy test: its src and what went wrong.
type TestFailure struct {
	User   string
	Errors []string
}

func (r *Refusal) Error() string {
	msg := fmt.Sprintf("policy refused (%d): %s", r.Status, r.Message)
	for _, t := range r.Tests {
		msg += fmt.Sprintf("; %s: %s", t.User, strings.Join(t.Errors, ", "))
	}
	return msg
}

func (r *Refusal) data() []errorBodyData {
	var out []errorBodyData
	for _, t := range r.Tests {
		out = append(out, errorBodyData{User: t.User, Errors: t.Errors})
	}
	return out
}

func refusalFromFailures(failures []errorBodyData) *Refusal {
	ref := &Refusal{Status: http.StatusBadRequest, Message: "test(s) failed"}
	for _, f := range failures {
		ref.Tests = append(ref.Tests, TestFailure{User: f.User, Errors: f.Errors})
	}
	return ref
}

// applyPolicy stores text as a write by actor would: If-Match (when not
// empty) must match, the policy must be valid and its tests must pass. A
// change of text is counted, recorded in the configuration log and
// announced to the webhook.
func (s *Server) applyPolicy(text []byte, ifMatch string, actor Actor, origin string) error {
	s.mu.Lock()
	if ifMatch != "" && !s.matchesLocked(ifMatch) {
		s.mu.Unlock()
		return &Refusal{Status: http.StatusPreconditionFailed, Message: preconditionFailed}
	}
	if p := policyProblem(text); p != "" {
		s.mu.Unlock()
		return &Refusal{Status: http.StatusBadRequest, Message: p}
	}
	if failures := testFailures(text, policyTests(text), s.users, s.devices); len(failures) > 0 {
		s.mu.Unlock()
		return refusalFromFailures(failures)
	}
	old := s.policy
	s.storeLocked(text)
	s.writes++
	changed := !bytes.Equal(old, s.policy)
	if changed {
		s.recordLocked(origin, actor, s.policyTarget(), "UPDATE", string(old), string(text))
	}
	s.mu.Unlock()
	if changed && s.hooks != nil {
		s.hooks.policyUpdate(old, text, cmpOr(actor.LoginName, actor.DisplayName))
	}
	return nil
}

func (s *Server) policyTarget() Target {
	return Target{ID: s.tailnet, Name: s.tailnet, Type: "TAILNET", Property: "ACL"}
}

// matchesLocked reports whether an If-Match value matches the stored
// policy. Like the real API it takes the ETag with or without its quotes
// (but not quoted twice), and "ts-default" matches only the untouched
// default policy.
func (s *Server) matchesLocked(ifMatch string) bool {
	v := ifMatch
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if v == "ts-default" {
		return s.isDefault
	}
	return v == strings.Trim(s.etag, `"`)
}

// validatePolicy serves POST /api/v2/tailnet/{tailnet}/acl/validate. Like
// the real API it answers 200 whether or not the policy is valid; a problem
// is reported as a non-empty "message", failing tests as
// {"message": "test(s) failed", "data": [...]}. A JSON array body is a list
// of ACL tests to run against the current policy. A valid policy with
// configured warnings answers, as the real API does for groups that SCIM
// does not sync (api.md in github.com/tailscale/tailscale):
//
//	{"message": "warning(s) found",
//	 "data": [{"user": "group:unknown@example.com",
//	           "warnings": ["group is not syncing from SCIM and will be ignored by rules in the policy file"]}]}
func (s *Server) validatePolicy(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	tests := []aclTest(nil)
	if v, err := hujson.Parse(clone(body)); err == nil {
		if _, isTests := v.Value.(*hujson.Array); isTests {
			v.Standardize()
			if err := json.Unmarshal(v.Pack(), &tests); err != nil {
				writeJSON(w, http.StatusOK, errorBody{Message: "parsing tests: " + err.Error()})
				return
			}
			s.mu.Lock()
			body = clone(s.policy)
			s.mu.Unlock()
		}
	}
	if p := policyProblem(body); p != "" {
		writeJSON(w, http.StatusOK, errorBody{Message: p})
		return
	}
	if tests == nil {
		tests = policyTests(body)
	}
	s.mu.Lock()
	failures := testFailures(body, tests, s.users, s.devices)
	warnings := slices.Clone(s.warnings)
	s.mu.Unlock()
	if len(failures) > 0 {
		writeJSON(w, http.StatusOK, errorBody{Message: "test(s) failed", Data: failures})
		return
	}
	if len(warnings) > 0 {
		data := make([]errorBodyData, 0, len(warnings))
		for _, w := range warnings {
			data = append(data, errorBodyData{User: w.User, Warnings: w.Warnings})
		}
		writeJSON(w, http.StatusOK, errorBody{Message: "warning(s) found", Data: data})
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// Warning is a validation warning about a user or group of the policy, as
// /acl/validate reports it.
type Warning struct {
	User     string
	Warnings []string
}

// SCIMWarning is the real service's warning for a group that SCIM does
// not sync.
func SCIMWarning(group string) Warning {
	return Warning{User: group, Warnings: []string{"group is not syncing from SCIM and will be ignored by rules in the policy file"}}
}

// SetWarnings replaces the warnings /acl/validate reports.
func (s *Server) SetWarnings(w ...Warning) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warnings = slices.Clone(w)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPolicySize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "policy file too large")
		} else {
			writeError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		}
		return nil, false
	}
	return body, true
}

// writePolicy answers 200 with the policy and its ETag: standard JSON when
// the Accept header names application/json, otherwise the stored HuJSON
// text byte for byte (the real API's default).
func writePolicy(w http.ResponseWriter, r *http.Request, text []byte, etag string) {
	w.Header().Set("ETag", etag)
	if !acceptsJSON(r) {
		w.Header().Set("Content-Type", "application/hujson")
		w.WriteHeader(http.StatusOK)
		w.Write(text) //nolint:errcheck // the client went away
		return
	}
	std, err := standardJSON(text)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "stored policy does not parse: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(std) //nolint:errcheck // the client went away
}

func acceptsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

// standardJSON converts HuJSON text to indented standard JSON.
func standardJSON(text []byte) ([]byte, error) {
	v, err := hujson.Parse(clone(text))
	if err != nil {
		return nil, err
	}
	v.Minimize()
	var out bytes.Buffer
	if err := json.Indent(&out, v.Pack(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// policyProblem returns what makes text an invalid policy file, or "" when
// it is valid. It checks what the portal depends on: the text parses as
// HuJSON, the root is an object, groups are named "group:…" and hold arrays
// of users (not other groups), tag owners are named "tag:…", and every
// group referenced from acls, grants, ssh, tagOwners, autoApprovers,
// nodeAttrs, tests and sshTests is defined. Keys are matched without
// regard to case, as the real parser does.
func policyProblem(text []byte) string {
	v, err := hujson.Parse(clone(text))
	if err != nil {
		return "parsing policy file: " + err.Error()
	}
	v.Standardize()
	var root any
	dec := json.NewDecoder(bytes.NewReader(v.Pack()))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		return "parsing policy file: " + err.Error()
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return "policy file must be a JSON object"
	}
	sec := foldKeys(obj)

	groups, problem := definedGroups(sec["groups"])
	if problem != "" {
		return problem
	}
	c := refChecker{groups: groups}
	c.rules("acls", sec["acls"], []string{"src", "users"}, []string{"dst", "ports"})
	c.rules("grants", sec["grants"], []string{"src", "dst"}, nil)
	c.rules("ssh", sec["ssh"], []string{"src", "dst"}, nil)
	c.tagOwners(sec["tagowners"])
	c.autoApprovers(sec["autoapprovers"])
	c.rules("nodeAttrs", sec["nodeattrs"], []string{"target"}, nil)
	c.tests("tests", sec["tests"])
	c.tests("sshTests", sec["sshtests"])
	return c.problem
}

// foldKeys returns obj with lower-cased keys.
func foldKeys(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[strings.ToLower(k)] = v
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// definedGroups checks the groups section and returns the names it defines.
func definedGroups(section any) (map[string]bool, string) {
	groups := make(map[string]bool)
	if section == nil {
		return groups, ""
	}
	m, ok := section.(map[string]any)
	if !ok {
		return nil, `"groups" must be an object`
	}
	for _, name := range sortedKeys(m) {
		if !strings.HasPrefix(name, "group:") || name == "group:" {
			return nil, fmt.Sprintf(`groups: %q: group names must start with "group:"`, name)
		}
		members, ok := stringList(m[name])
		if !ok {
			return nil, fmt.Sprintf("groups: %q: members must be an array of strings", name)
		}
		for _, member := range members {
			if strings.HasPrefix(member, "group:") {
				return nil, fmt.Sprintf("groups: %q: groups cannot contain other groups (%q)", name, member)
			}
		}
		groups[name] = true
	}
	return groups, ""
}

// stringList converts a JSON array of strings; ok is false for anything else.
func stringList(v any) ([]string, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// refChecker records the first problem found among group references.
type refChecker struct {
	groups  map[string]bool
	problem string
}

func (c *refChecker) fail(format string, args ...any) {
	if c.problem == "" {
		c.problem = fmt.Sprintf(format, args...)
	}
}

// rules checks an array of rule objects (acls, grants, ssh, nodeAttrs):
// plain fields hold principals, port fields hold "target:port" entries.
func (c *refChecker) rules(name string, section any, plain, withPort []string) {
	if section == nil || c.problem != "" {
		return
	}
	arr, ok := section.([]any)
	if !ok {
		c.fail("%q must be an array", name)
		return
	}
	for i, e := range arr {
		rule, ok := e.(map[string]any)
		if !ok {
			c.fail("%s[%d]: must be an object", name, i)
			return
		}
		rule = foldKeys(rule)
		for _, f := range plain {
			c.list(fmt.Sprintf("%s[%d].%s", name, i, f), rule[f], false)
		}
		for _, f := range withPort {
			c.list(fmt.Sprintf("%s[%d].%s", name, i, f), rule[f], true)
		}
	}
}

func (c *refChecker) tagOwners(section any) {
	if section == nil || c.problem != "" {
		return
	}
	m, ok := section.(map[string]any)
	if !ok {
		c.fail(`"tagOwners" must be an object`)
		return
	}
	for _, tag := range sortedKeys(m) {
		if !strings.HasPrefix(tag, "tag:") || tag == "tag:" {
			c.fail(`tagOwners: %q: tag names must start with "tag:"`, tag)
			return
		}
		c.list(fmt.Sprintf("tagOwners[%q]", tag), m[tag], false)
	}
}

func (c *refChecker) autoApprovers(section any) {
	if section == nil || c.problem != "" {
		return
	}
	m, ok := section.(map[string]any)
	if !ok {
		c.fail(`"autoApprovers" must be an object`)
		return
	}
	m = foldKeys(m)
	for _, key := range []string{"routes", "services"} {
		if m[key] == nil {
			continue
		}
		entries, ok := m[key].(map[string]any)
		if !ok {
			c.fail("autoApprovers.%s must be an object", key)
			return
		}
		for _, k := range sortedKeys(entries) {
			c.list(fmt.Sprintf("autoApprovers.%s[%q]", key, k), entries[k], false)
		}
	}
	c.list("autoApprovers.exitNode", m["exitnode"], false)
}

// tests checks the "src" of each ACL or SSH test.
func (c *refChecker) tests(name string, section any) {
	if section == nil || c.problem != "" {
		return
	}
	arr, ok := section.([]any)
	if !ok {
		c.fail("%q must be an array", name)
		return
	}
	for i, e := range arr {
		test, ok := e.(map[string]any)
		if !ok {
			c.fail("%s[%d]: must be an object", name, i)
			return
		}
		test = foldKeys(test)
		if src, ok := test["src"].(string); ok {
			c.ref(fmt.Sprintf("%s[%d].src", name, i), src, false)
		}
	}
}

// list checks a field that must be an array of strings, if present.
func (c *refChecker) list(where string, v any, withPort bool) {
	if v == nil || c.problem != "" {
		return
	}
	items, ok := stringList(v)
	if !ok {
		c.fail("%s: must be an array of strings", where)
		return
	}
	for _, item := range items {
		c.ref(where, item, withPort)
	}
}

// ref checks one entry; when withPort, the entry is "target:ports".
func (c *refChecker) ref(where, entry string, withPort bool) {
	name, ok := strings.CutPrefix(entry, "group:")
	if !ok {
		return
	}
	if withPort {
		if i := strings.LastIndexByte(name, ':'); i >= 0 {
			name = name[:i]
		}
	}
	group := "group:" + name
	// Groups synced from an identity provider ("group:eng@example.com")
	// are not defined in the file; the fake takes them on trust.
	if strings.Contains(name, "@") || c.groups[group] {
		return
	}
	c.fail("%s: group %q is not defined", where, group)
}
