package tailnetfake

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Posture conditions ("Device posture", https://tailscale.com/kb/1288/device-posture):
// a posture is a list of conditions "attribute op value" that must all
// hold; a rule's srcPosture lists postures of which one must hold. The
// operators are ==, !=, <, <=, >, >=, IN, NOT IN, IS SET and NOT SET;
// values are 'strings', numbers, booleans or lists of them. Versions
// ("1.98.0") compare part by part.

// postureHolds reports whether attrs satisfy one of the named postures.
func (m *aclModel) postureHolds(names []string, attrs map[string]any) bool {
	return slices.ContainsFunc(names, func(name string) bool {
		conds, ok := m.postures[name]
		if !ok {
			return false
		}
		for _, c := range conds {
			if !conditionHolds(c, attrs) {
				return false
			}
		}
		return true
	})
}

var postureOps = []string{" NOT IN ", " IN ", "==", "!=", "<=", ">=", "<", ">"}

// conditionHolds evaluates one condition; one it cannot read does not hold.
func conditionHolds(cond string, attrs map[string]any) bool {
	cond = strings.TrimSpace(cond)
	if key, _, ok := cutFold(cond, " IS SET"); ok {
		_, set := attrs[strings.TrimSpace(key)]
		return set
	}
	if key, _, ok := cutFold(cond, " NOT SET"); ok {
		_, set := attrs[strings.TrimSpace(key)]
		return !set
	}
	for _, op := range postureOps {
		key, want, found := cutFold(cond, op)
		if !found {
			continue
		}
		got, set := attrs[strings.TrimSpace(key)]
		if !set {
			return op == "!=" || op == " NOT IN "
		}
		return compareCondition(strings.TrimSpace(op), fmt.Sprint(got), strings.TrimSpace(want))
	}
	return false
}

func compareCondition(op, got, want string) bool {
	switch op {
	case "IN", "NOT IN":
		list := strings.Split(strings.Trim(want, "[]"), ",")
		in := slices.ContainsFunc(list, func(v string) bool { return unquote(v) == got })
		return in == (op == "IN")
	}
	c := compareValues(got, unquote(want))
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func unquote(v string) string {
	return strings.Trim(strings.TrimSpace(v), `'"`)
}

// compareValues compares numbers and versions part by part, other values
// as text.
func compareValues(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		x, y := "0", "0"
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		nx, errX := strconv.ParseFloat(x, 64)
		ny, errY := strconv.ParseFloat(y, 64)
		if errX != nil || errY != nil {
			return strings.Compare(a, b)
		}
		if nx != ny {
			if nx < ny {
				return -1
			}
			return 1
		}
	}
	return 0
}

// cutFold is strings.Cut with sep matched without regard to case.
func cutFold(s, sep string) (before, after string, found bool) {
	i := strings.Index(strings.ToUpper(s), sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
