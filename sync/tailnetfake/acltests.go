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
	postures map[string][]string
	rules    []aclRule
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
func testFailures(text []byte, tests []aclTest) []errorBodyData {
	sec, err := policySections(text)
	if err != nil {
		return nil
	}
	m := buildModel(sec)
	var out []errorBodyData
	for _, t := range tests {
		if errs := m.run(t); len(errs) > 0 {
			out = append(out, errorBodyData{User: t.Src, Errors: errs})
		}
	}
	return out
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

// run evaluates one test and returns its errors.
func (m *aclModel) run(t aclTest) []string {
	var errs []string
	for _, dst := range t.Accept {
		if !m.allows(t, dst) {
			errs = append(errs, fmt.Sprintf("address %q: want: Accept, got: Drop", dst))
		}
	}
	for _, dst := range t.Deny {
		if m.allows(t, dst) {
			errs = append(errs, fmt.Sprintf("address %q: want: Drop, got: Accept", dst))
		}
	}
	return errs
}

// allows reports whether some rule lets the test's source reach dst.
func (m *aclModel) allows(t aclTest, dst string) bool {
	target, portText := splitHostPort(dst)
	port, err := strconv.Atoi(portText)
	if err != nil {
		return false
	}
	proto := normalProto(t.Proto)
	for _, r := range m.rules {
		if !slices.ContainsFunc(r.src, func(e string) bool { return m.srcMatches(e, t.Src) }) {
			continue
		}
		if len(r.srcPosture) > 0 && !m.postureHolds(r.srcPosture, t.SrcPostureAttrs) {
			continue
		}
		for _, d := range r.dst {
			if protoMatches(cmpOr(d.proto, r.proto), proto) && portIn(d.ports, port) && m.dstMatches(d.target, target, t.Src) {
				return true
			}
		}
	}
	return false
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
	return strings.Contains(s, "@") && !strings.HasPrefix(s, "group:") && !strings.HasPrefix(s, "tag:")
}

// srcMatches reports whether a rule's source entry covers the test source.
func (m *aclModel) srcMatches(entry, src string) bool {
	switch {
	case entry == "*", strings.EqualFold(entry, src):
		return true
	case strings.HasPrefix(entry, "group:"):
		return m.inGroup(entry, src)
	case entry == "autogroup:member":
		return isUser(src) || strings.HasPrefix(src, "group:")
	case entry == "autogroup:tagged":
		return strings.HasPrefix(src, "tag:")
	}
	return m.addressIn(entry, src)
}

// dstMatches reports whether a rule's destination target covers the
// test's destination target.
func (m *aclModel) dstMatches(entry, target, src string) bool {
	switch {
	case entry == "*", strings.EqualFold(entry, target):
		return true
	case strings.HasPrefix(entry, "group:"):
		return m.inGroup(entry, target)
	case entry == "autogroup:member":
		return isUser(target)
	case entry == "autogroup:self":
		return isUser(target) && strings.EqualFold(target, src)
	case entry == "autogroup:tagged":
		return strings.HasPrefix(target, "tag:")
	}
	return m.addressIn(entry, target)
}

func (m *aclModel) inGroup(group, who string) bool {
	return slices.ContainsFunc(m.groups[group], func(u string) bool { return strings.EqualFold(u, who) })
}

// addressIn reports whether the address (or host alias) addr lies in the
// prefix, IP or host alias entry.
func (m *aclModel) addressIn(entry, addr string) bool {
	p, ok := m.prefix(entry)
	if !ok {
		return false
	}
	q, ok := m.prefix(addr)
	return ok && p.Bits() <= q.Bits() && p.Contains(q.Addr())
}

// prefix resolves an IP, a CIDR or a host alias.
func (m *aclModel) prefix(s string) (netip.Prefix, bool) {
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
