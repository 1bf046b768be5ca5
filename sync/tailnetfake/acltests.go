package tailnetfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/tailscale/hujson"
)

// The policy's "tests" section, run on every write and validate as the real
// control plane runs it ("Tests" in the ACL syntax reference,
// https://tailscale.com/kb/1337/acl-syntax#tests): each test names a source
// (a user, group, tag, host or IP), an optional protocol, and destinations
// ("target:port") that must be accepted or denied by the policy's acls and
// grants. A failing test refuses the write with 400 and the real API's
// shape (api.md in github.com/tailscale/tailscale):
//
//	{"message": "test(s) failed",
//	 "data": [{"user": "user1@example.com",
//	           "errors": ["address \"2.2.2.2:22\": want: Drop, got: Accept"]}]}
//
// The evaluator understands what real-world policy files use: "*", users,
// groups, tags, autogroup:member, autogroup:self, autogroup:tagged, hosts,
// IPs and CIDRs, port lists and ranges, protocols, and srcPosture checked
// against a test's srcPostureAttrs.

// aclModel is the part of a policy the tests are evaluated against.
type aclModel struct {
	groups   map[string][]string
	hosts    map[string]string
	ipsets   map[string][]string
	postures map[string][]string
	rules    []aclRule
	users    map[string]User // by lower-cased login
	devices  []Device
}

// aclRule is one accept rule from "acls" or "grants".
type aclRule struct {
	src        []string
	dst        []aclDest
	proto      string // "" for any protocol
	srcPosture []string
}

type aclDest struct {
	target string
	ports  []portRange
	proto  string // a grant's per-entry protocol; "" for the rule's
}

type portRange struct{ lo, hi int }

// aclTest is one entry of "tests".
type aclTest struct {
	Src             string         `json:"src"`
	Proto           string         `json:"proto"`
	Accept          []string       `json:"accept"`
	Deny            []string       `json:"deny"`
	SrcPostureAttrs map[string]any `json:"srcPostureAttrs"`
}

// policySections decodes a policy's sections with lower-cased keys.
func policySections(text []byte) (map[string]json.RawMessage, error) {
	v, err := hujson.Parse(clone(text))
	if err != nil {
		return nil, err
	}
	v.Standardize()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(v.Pack(), &raw); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(raw))
	for k, val := range raw {
		out[strings.ToLower(k)] = val
	}
	return out, nil
}

// testFailures runs tests against the policy text and returns the
// failures, one entry per failing test. A policy that does not decode
// has no failures here (policyProblem reports it).
func testFailures(text []byte, tests []aclTest, users []User, devices []Device) []errorBodyData {
	m, err := modelOf(text, users, devices)
	if err != nil {
		return nil
	}
	var out []errorBodyData
	for _, t := range tests {
		if errs := m.run(t); len(errs) > 0 {
			out = append(out, errorBodyData{User: t.Src, Errors: errs})
		}
	}
	return out
}

// modelOf builds the evaluator for a policy text and the tailnet's users
// and devices.
func modelOf(text []byte, users []User, devices []Device) (*aclModel, error) {
	sec, err := policySections(text)
	if err != nil {
		return nil, err
	}
	m := buildModel(sec)
	m.users = make(map[string]User, len(users))
	for _, u := range users {
		m.users[strings.ToLower(u.LoginName)] = u
	}
	m.devices = devices
	return m, nil
}

// policyTests returns the policy's own tests.
func policyTests(text []byte) []aclTest {
	sec, err := policySections(text)
	if err != nil {
		return nil
	}
	var tests []aclTest
	decodeLoose(sec["tests"], &tests)
	return tests
}

// decodeLoose decodes JSON with case-insensitive field names, ignoring
// errors (the structure was checked by policyProblem).
func decodeLoose(raw json.RawMessage, v any) {
	if len(raw) == 0 {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.Decode(v) //nolint:errcheck // see above
}

func buildModel(sec map[string]json.RawMessage) *aclModel {
	m := &aclModel{}
	decodeLoose(sec["groups"], &m.groups)
	decodeLoose(sec["hosts"], &m.hosts)
	decodeLoose(sec["ipsets"], &m.ipsets)
	decodeLoose(sec["postures"], &m.postures)
	var acls []struct {
		Action     string   `json:"action"`
		Src        []string `json:"src"`
		Users      []string `json:"users"`
		Dst        []string `json:"dst"`
		Ports      []string `json:"ports"`
		Proto      string   `json:"proto"`
		SrcPosture []string `json:"srcPosture"`
	}
	decodeLoose(sec["acls"], &acls)
	for _, a := range acls {
		if a.Action != "" && a.Action != "accept" {
			continue
		}
		r := aclRule{src: append(a.Src, a.Users...), proto: normalProto(a.Proto), srcPosture: a.SrcPosture}
		for _, d := range append(a.Dst, a.Ports...) {
			target, ports := splitHostPort(d)
			r.dst = append(r.dst, aclDest{target: target, ports: parsePorts(ports)})
		}
		m.rules = append(m.rules, r)
	}
	var grants []struct {
		Src        []string `json:"src"`
		Dst        []string `json:"dst"`
		IP         []string `json:"ip"`
		SrcPosture []string `json:"srcPosture"`
	}
	decodeLoose(sec["grants"], &grants)
	for _, g := range grants {
		r := aclRule{src: g.Src, srcPosture: g.SrcPosture}
		for _, target := range g.Dst {
			for _, ip := range g.IP {
				proto, ports := grantIP(ip)
				r.dst = append(r.dst, aclDest{target: target, ports: ports, proto: proto})
			}
		}
		m.rules = append(m.rules, r)
	}
	return m
}

// grantIP parses a grant "ip" entry: "*", "22", "80-90", "tcp:443",
// "udp:*", "icmp".
func grantIP(ip string) (proto string, ports []portRange) {
	if ip == "*" {
		return "", []portRange{{0, 65535}}
	}
	if p, rest, ok := strings.Cut(ip, ":"); ok {
		return normalProto(p), parsePorts(rest)
	}
	if _, err := strconv.Atoi(strings.Split(ip, "-")[0]); err == nil {
		return "", parsePorts(ip)
	}
	return normalProto(ip), []portRange{{0, 65535}}
}

// splitHostPort splits "target:ports" at its last colon; "[v6]:p" too.
func splitHostPort(s string) (target, ports string) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "*"
	}
	return strings.Trim(s[:i], "[]"), s[i+1:]
}

func parsePorts(s string) []portRange {
	var out []portRange
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "*" {
			out = append(out, portRange{0, 65535})
			continue
		}
		lo, hi, isRange := strings.Cut(p, "-")
		l, err1 := strconv.Atoi(lo)
		h := l
		var err2 error
		if isRange {
			h, err2 = strconv.Atoi(hi)
		}
		if err1 == nil && err2 == nil {
			out = append(out, portRange{l, h})
		}
	}
	return out
}

// normalProto names a protocol the same way whether given by name or
// IANA number.
func normalProto(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	switch p {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "58", "ipv6-icmp":
		return "icmpv6"
	}
	return p
}

// verdict is a three-valued answer: what the policy says may depend on
// tailnet state the fake does not hold (the devices behind an IP address
// it does not know, the role of a user it does not know). A test fails only
// on a definite answer against it, so real-world policies whose tests
// depend on their own tailnet's devices are still accepted.
type verdict int8

const (
	no verdict = iota
	maybe
	yes
)

func definite(b bool) verdict {
	if b {
		return yes
	}
	return no
}

// run evaluates one test and returns its errors.
func (m *aclModel) run(t aclTest) []string {
	var errs []string
	for _, dst := range t.Accept {
		if m.allows(t, dst) == no {
			errs = append(errs, fmt.Sprintf("address %q: want: Accept, got: Drop", dst))
		}
	}
	for _, dst := range t.Deny {
		if m.allows(t, dst) == yes {
			errs = append(errs, fmt.Sprintf("address %q: want: Drop, got: Accept", dst))
		}
	}
	return errs
}

// allows says whether some rule lets the test's source reach dst.
func (m *aclModel) allows(t aclTest, dst string) verdict {
	target, portText := splitHostPort(dst)
	port, err := strconv.Atoi(portText)
	if err != nil {
		return no
	}
	proto := normalProto(t.Proto)
	best := no
	for _, r := range m.rules {
		src := no
		for _, e := range r.src {
			src = max(src, m.matches(e, t.Src, ""))
		}
		if src == no || (len(r.srcPosture) > 0 && !m.postureHolds(r.srcPosture, t.SrcPostureAttrs)) {
			continue
		}
		for _, d := range r.dst {
			if protoMatches(cmpOr(d.proto, r.proto), proto) && portIn(d.ports, port) {
				best = max(best, min(src, m.matches(d.target, target, t.Src)))
			}
		}
	}
	return best
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// protoMatches: a rule without a protocol allows every protocol; a test
// without one is TCP.
func protoMatches(rule, test string) bool {
	if rule == "" {
		return true
	}
	if test == "" {
		test = "tcp"
	}
	return rule == test
}

func portIn(ranges []portRange, port int) bool {
	return slices.ContainsFunc(ranges, func(r portRange) bool { return r.lo <= port && port <= r.hi })
}

func isUser(s string) bool {
	return strings.Contains(s, "@") && !strings.Contains(s, ":")
}

// matches says whether a rule's entry (a source, or a destination target)
// covers who: a user, group, tag, autogroup, host, IP or CIDR. For
// autogroup:self, src is the test's source.
func (m *aclModel) matches(entry, who, src string) verdict {
	switch {
	case entry == "*", entry == "autogroup:danger-all", strings.EqualFold(entry, who):
		return yes
	case strings.HasPrefix(who, "autogroup:"):
		return autogroupSource(entry)
	}
	if _, isAddr := m.addresses(who); isAddr {
		return m.addressMatches(entry, who, src)
	}
	switch {
	case strings.HasPrefix(entry, "group:"):
		return m.groupHolds(entry, who)
	case entry == "autogroup:self":
		return definite(isUser(who) && strings.EqualFold(who, src))
	case entry == "autogroup:tagged":
		return definite(strings.HasPrefix(who, "tag:"))
	case strings.HasPrefix(entry, "autogroup:"):
		return m.autogroupHolds(entry, who)
	case strings.HasPrefix(entry, "ipset:"), m.isAddress(entry):
		return m.devicesIn(entry, who)
	}
	return no // another user or tag
}

// autogroupSource answers for a test from "autogroup:member": any member,
// so a rule naming particular people may or may not cover it.
func autogroupSource(entry string) verdict {
	switch {
	case entry == "autogroup:member":
		return yes
	case isUser(entry), strings.HasPrefix(entry, "group:"):
		return maybe
	}
	return no
}

// groupHolds: a group defined in the file holds its members; a group
// synced from an identity provider is unknown here.
func (m *aclModel) groupHolds(group, who string) verdict {
	members, defined := m.groups[group]
	if !defined {
		if isUser(who) {
			return maybe
		}
		return no
	}
	return definite(isUser(who) && slices.ContainsFunc(members, func(u string) bool { return strings.EqualFold(u, who) }))
}

// autogroupHolds answers role and type autogroups from the tailnet's users.
func (m *aclModel) autogroupHolds(group, who string) verdict {
	if strings.HasPrefix(who, "group:") {
		if group == "autogroup:member" {
			return yes
		}
		return maybe
	}
	if !isUser(who) {
		return no
	}
	u, known := m.users[strings.ToLower(who)]
	if !known {
		return maybe
	}
	switch group {
	case "autogroup:member":
		return definite(u.Type == "member")
	case "autogroup:shared":
		return definite(u.Type == "shared")
	case "autogroup:admin":
		return definite(u.Role == "admin" || u.Role == "owner")
	case "autogroup:owner", "autogroup:it-admin", "autogroup:network-admin", "autogroup:billing-admin", "autogroup:auditor":
		return definite(u.Role == strings.TrimPrefix(group, "autogroup:"))
	}
	return no // autogroup:internet and the like hold no users
}

// addressMatches says whether entry covers the address who: directly for
// IPs, CIDRs, hosts and ipsets; through the fake's device at that address
// otherwise, or maybe when no known device has it.
func (m *aclModel) addressMatches(entry, who, src string) verdict {
	if strings.HasPrefix(entry, "ipset:") || m.isAddress(entry) {
		return m.prefixesContain(entry, who)
	}
	d, known := m.deviceAt(who)
	if !known {
		return maybe
	}
	ids := append([]string{}, d.Tags...)
	if len(d.Tags) == 0 {
		ids = append(ids, d.User)
	}
	best := no
	for _, id := range ids {
		if entry == "autogroup:self" {
			best = max(best, definite(len(d.Tags) == 0 && strings.EqualFold(d.User, src)))
			continue
		}
		best = max(best, m.matches(entry, id, src))
	}
	return best
}

// devicesIn says whether a user or tag has a known device inside the
// address entry; maybe otherwise, since its other devices are unknown.
func (m *aclModel) devicesIn(entry, who string) verdict {
	for _, d := range m.devices {
		if slices.Contains(d.Tags, who) || (len(d.Tags) == 0 && strings.EqualFold(d.User, who)) {
			for _, a := range d.Addresses {
				if m.prefixesContain(entry, a) == yes {
					return yes
				}
			}
		}
	}
	return maybe
}

func (m *aclModel) deviceAt(addr string) (Device, bool) {
	for _, d := range m.devices {
		if slices.Contains(d.Addresses, addr) {
			return d, true
		}
	}
	return Device{}, false
}

func (m *aclModel) isAddress(s string) bool {
	_, ok := m.addresses(s)
	return ok
}

// addresses resolves an IP, a CIDR or a host alias.
func (m *aclModel) addresses(s string) (netip.Prefix, bool) {
	if h, ok := m.hosts[s]; ok {
		s = h
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// prefixesContain says whether the address who lies in entry: an IP, a
// CIDR, a host alias or an ipset of those (an ipset entry the fake cannot
// read makes the answer maybe).
func (m *aclModel) prefixesContain(entry, who string) verdict {
	q, ok := m.addresses(who)
	if !ok {
		return maybe
	}
	members := []string{entry}
	if strings.HasPrefix(entry, "ipset:") {
		set, defined := m.ipsets[entry]
		if !defined {
			return maybe
		}
		members = set
	}
	best := no
	for _, e := range members {
		p, ok := m.addresses(e)
		switch {
		case !ok:
			best = max(best, maybe)
		case p.Bits() <= q.Bits() && p.Contains(q.Addr()):
			return yes
		}
	}
	return best
}
