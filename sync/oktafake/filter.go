package oktafake

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file implements the expression language of Okta's filter and search
// query parameters: `attr op "value"` comparisons (eq, ne, gt, ge, lt, le,
// sw, co, and `attr pr`) joined with and/or and grouped with parentheses.
// filter only accepts Okta's documented attributes and eq/gt/ge/lt/le and
// compares strings exactly; search accepts every attribute of the resource
// and compares strings case-insensitively.

// attrValue is one attribute of a user or group, as a filter sees it.
type attrValue struct {
	str    string
	t      time.Time
	isTime bool
	// multi marks an attribute with several values (a System Log event's
	// targets): a comparison matches when any value matches.
	multi bool
	all   []string
}

func (v attrValue) present() bool {
	if v.multi {
		return slices.ContainsFunc(v.all, func(s string) bool { return s != "" })
	}
	if v.isTime {
		return !v.t.IsZero()
	}
	return v.str != ""
}

// attrGetter returns an attribute of one object; false for an unknown attribute.
type attrGetter func(name string) (attrValue, bool)

var timeAttrs = []string{"created", "activated", "statusChanged", "lastLogin", "lastUpdated", "passwordChanged", "lastMembershipUpdated"}

var (
	userSearchAttrs  = []string{"id", "status", "created", "activated", "statusChanged", "lastLogin", "lastUpdated", "passwordChanged", "type.id", "profile.login", "profile.email", "profile.firstName", "profile.lastName"}
	groupSearchAttrs = []string{"id", "type", "created", "lastUpdated", "lastMembershipUpdated", "profile.name", "profile.description"}
)

func (s *Server) userAttrLocked(u *user) attrGetter {
	return func(name string) (attrValue, bool) {
		switch name {
		case "id":
			return attrValue{str: u.id}, true
		case "status":
			return attrValue{str: u.status}, true
		case "type.id":
			return attrValue{str: s.typeID}, true
		case "profile.login":
			return attrValue{str: u.login}, true
		case "profile.email":
			return attrValue{str: u.email}, true
		case "profile.firstName":
			return attrValue{str: u.firstName}, true
		case "profile.lastName":
			return attrValue{str: u.lastName}, true
		case "created":
			return attrValue{t: u.created, isTime: true}, true
		case "activated":
			return attrValue{t: u.activated, isTime: true}, true
		case "statusChanged":
			return attrValue{t: u.statusChanged, isTime: true}, true
		case "lastLogin":
			return attrValue{t: u.lastLogin, isTime: true}, true
		case "lastUpdated":
			return attrValue{t: u.lastUpdated, isTime: true}, true
		case "passwordChanged":
			return attrValue{t: u.passwordChanged, isTime: true}, true
		}
		return attrValue{}, false
	}
}

func groupAttr(g *group) attrGetter {
	return func(name string) (attrValue, bool) {
		switch name {
		case "id":
			return attrValue{str: g.id}, true
		case "type":
			return attrValue{str: "OKTA_GROUP"}, true
		case "profile.name":
			return attrValue{str: g.name}, true
		case "profile.description":
			return attrValue{str: g.description}, true
		case "created":
			return attrValue{t: g.created, isTime: true}, true
		case "lastUpdated":
			return attrValue{t: g.lastUpdated, isTime: true}, true
		case "lastMembershipUpdated":
			return attrValue{t: g.lastMembershipUpdated, isTime: true}, true
		}
		return attrValue{}, false
	}
}

// expr is a parsed filter or search expression.
type expr interface {
	// eval reports whether the object matches; fold compares strings
	// case-insensitively (search) instead of exactly (filter).
	eval(get attrGetter, fold bool) bool
	// check refuses attributes outside allowed and, unless search,
	// operators the filter parameter does not support.
	check(allowed []string, search bool) error
}

type logical struct {
	and         bool
	left, right expr
}

func (l logical) eval(get attrGetter, fold bool) bool {
	if l.and {
		return l.left.eval(get, fold) && l.right.eval(get, fold)
	}
	return l.left.eval(get, fold) || l.right.eval(get, fold)
}

func (l logical) check(allowed []string, search bool) error {
	if err := l.left.check(allowed, search); err != nil {
		return err
	}
	return l.right.check(allowed, search)
}

type comparison struct {
	attr, op, value string
	t               time.Time
	tOK             bool
}

func (c comparison) check(allowed []string, search bool) error {
	if !slices.Contains(allowed, c.attr) {
		return fmt.Errorf("unsupported attribute %q", c.attr)
	}
	// Users API, "List users with a filter": only eq, except on
	// timestamps, which also take gt, ge, lt and le; search has no ew.
	filterOps := []string{"eq"}
	if slices.Contains(timeAttrs, c.attr) {
		filterOps = []string{"eq", "gt", "ge", "lt", "le"}
	}
	if !search && !slices.Contains(filterOps, c.op) || c.op == "ew" {
		return fmt.Errorf("operator %q is not supported in filter", c.op)
	}
	if c.op != "pr" && slices.Contains(timeAttrs, c.attr) && !c.tOK {
		return fmt.Errorf("%s: invalid date %q (want like 2013-06-01T00:00:00.000Z)", c.attr, c.value)
	}
	return nil
}

func (c comparison) eval(get attrGetter, fold bool) bool {
	v, ok := get(c.attr)
	if !ok {
		return false
	}
	if c.op == "pr" {
		return v.present()
	}
	if v.multi {
		for _, one := range v.all {
			if c.eval(func(string) (attrValue, bool) { return attrValue{str: one}, true }, fold) {
				return true
			}
		}
		return false
	}
	var cmp int
	if v.isTime {
		if !c.tOK || v.t.IsZero() {
			return c.op == "ne"
		}
		cmp = v.t.Compare(c.t)
	} else {
		a, b := v.str, c.value
		if fold {
			a, b = strings.ToLower(a), strings.ToLower(b)
		}
		switch c.op {
		case "sw":
			return strings.HasPrefix(a, b)
		case "co":
			return strings.Contains(a, b)
		case "ew":
			return strings.HasSuffix(a, b)
		}
		cmp = strings.Compare(a, b)
	}
	switch c.op {
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	case "gt":
		return cmp > 0
	case "ge":
		return cmp >= 0
	case "lt":
		return cmp < 0
	case "le":
		return cmp <= 0
	}
	return false
}

var operators = []string{"eq", "ne", "gt", "ge", "lt", "le", "sw", "co", "ew", "pr"}

// parseExpr parses a filter or search expression.
func parseExpr(src string) (expr, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return e, nil
}

type token struct {
	text   string
	quoted bool
}

func tokenize(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, token{text: string(c)})
			i++
		case c == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(src) {
				if src[i] == '\\' && i+1 < len(src) {
					b.WriteByte(src[i+1])
					i += 2
					continue
				}
				if src[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(src[i])
				i++
			}
			if !closed {
				return nil, errors.New("unterminated string")
			}
			toks = append(toks, token{text: b.String(), quoted: true})
		default:
			start := i
			for i < len(src) && !strings.ContainsRune(" \t\n\r()\"", rune(src[i])) {
				i++
			}
			toks = append(toks, token{text: src[start:i]})
		}
	}
	return toks, nil
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peekWord(w string) bool {
	return p.pos < len(p.toks) && !p.toks[p.pos].quoted && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *parser) next() (token, error) {
	if p.pos >= len(p.toks) {
		return token{}, errors.New("unexpected end of expression")
	}
	t := p.toks[p.pos]
	p.pos++
	return t, nil
}

func (p *parser) or() (expr, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = logical{left: left, right: right}
	}
	return left, nil
}

func (p *parser) and() (expr, error) {
	left, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		right, err := p.primary()
		if err != nil {
			return nil, err
		}
		left = logical{and: true, left: left, right: right}
	}
	return left, nil
}

func (p *parser) primary() (expr, error) {
	if p.peekWord("(") {
		p.pos++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peekWord(")") {
			return nil, errors.New("missing )")
		}
		p.pos++
		return e, nil
	}
	attr, err := p.next()
	if err != nil {
		return nil, err
	}
	if attr.quoted || attr.text == ")" {
		return nil, fmt.Errorf("expected an attribute, got %q", attr.text)
	}
	opTok, err := p.next()
	if err != nil {
		return nil, err
	}
	op := strings.ToLower(opTok.text)
	if opTok.quoted || !slices.Contains(operators, op) {
		return nil, fmt.Errorf("unknown operator %q", opTok.text)
	}
	c := comparison{attr: attr.text, op: op}
	if op == "pr" {
		return c, nil
	}
	val, err := p.next()
	if err != nil {
		return nil, err
	}
	if !val.quoted && (val.text == "(" || val.text == ")") {
		return nil, fmt.Errorf("expected a value, got %q", val.text)
	}
	c.value = val.text
	if t, err := time.Parse(time.RFC3339Nano, val.text); err == nil {
		c.t, c.tOK = t, true
	}
	return c, nil
}
