package web

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/accessportal/portal/sync/policyfile"
)

// Limits of the approvers' policy preview.
const (
	previewContext  = 2   // lines shown before and after each line that references the group
	previewMaxLines = 120 // lines shown at most per group
	policyTimeout   = 5 * time.Second
)

// policyPreview is what a grant of one resource puts into the tailnet: the
// requester joins the resource's Tailscale group, and the lines of the
// current policy file that reference the group say what that gives.
type policyPreview struct {
	Group string
	// Member is the requester the grant adds to Group.
	Member string
	// Unavailable says why the policy cannot be shown; "" when it can.
	Unavailable string
	// Hunks are the referencing lines with their context, in file order.
	Hunks [][]policyLine
	// References counts the lines that reference Group.
	References int
	// Truncated says that lines were left out beyond previewMaxLines.
	Truncated bool
	// NoRule says that the lines referencing Group are no rule (its
	// definition in "groups", "tests"): the grant would give nothing.
	NoRule bool
	// Posture is the resource's second lock (devicePosture); nil without.
	Posture *posturePreview
}

// policyLine is one line of the policy file.
type policyLine struct {
	Number int
	Text   string
	// References says whether the line names the group.
	References bool
}

// policyPreviews reads the current policy once and previews each group.
// When the policy cannot be read, every preview says so.
func (s *Server) policyPreviews(ctx context.Context, groups []string) map[string]*policyPreview {
	out := map[string]*policyPreview{}
	if len(groups) == 0 {
		return out
	}
	text, unavailable := s.currentPolicy(ctx)
	for _, g := range groups {
		if unavailable != "" {
			out[g] = &policyPreview{Group: g, Unavailable: unavailable}
			continue
		}
		pv := previewPolicy(text, g)
		out[g] = &pv
	}
	return out
}

// currentPolicy reads the tailnet policy file, or says why it cannot.
func (s *Server) currentPolicy(ctx context.Context) (text []byte, unavailable string) {
	if s.opts.Policy == nil {
		return nil, "The portal has no connection to the tailnet here, so the current policy cannot be shown."
	}
	ctx, cancel := context.WithTimeout(ctx, policyTimeout)
	defer cancel()
	text, err := s.opts.Policy(ctx)
	if err != nil {
		slog.WarnContext(ctx, "reading the tailnet policy for a preview", "err", err)
		return nil, "The current tailnet policy could not be read (" + err.Error() + "), so it cannot be shown."
	}
	return text, ""
}

// previewPolicy finds the lines of a policy file that reference group and
// keeps them with previewContext lines around each, merging neighbours.
func previewPolicy(text []byte, group string) policyPreview {
	pv := previewLines(text, []string{group})
	pv.Group = group
	if uses, err := policyfile.GroupUse(text, group); err == nil {
		pv.NoRule = len(uses) == 0
	}
	return pv
}

// previewLines finds the lines of a policy file that reference any of
// names and keeps them with previewContext lines around each, merging
// neighbours.
func previewLines(text []byte, names []string) policyPreview {
	var pv policyPreview
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	var refs []int
	isRef := make([]bool, len(lines))
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
		if slices.ContainsFunc(names, func(n string) bool { return referencesGroup(lines[i], n) }) {
			refs = append(refs, i)
			isRef[i] = true
		}
	}
	pv.References = len(refs)
	shown := 0
	var hunk []policyLine
	next := 0 // the first line not yet shown
scan:
	for _, r := range refs {
		from, to := max(r-previewContext, next), min(r+previewContext, len(lines)-1)
		if hunk != nil && from > next {
			pv.Hunks = append(pv.Hunks, hunk)
			hunk = nil
		}
		for i := from; i <= to; i++ {
			if shown == previewMaxLines {
				pv.Truncated = true
				break scan
			}
			hunk = append(hunk, policyLine{Number: i + 1, Text: lines[i], References: isRef[i]})
			shown++
		}
		next = max(next, to+1)
	}
	if hunk != nil {
		pv.Hunks = append(pv.Hunks, hunk)
	}
	return pv
}

// referencesGroup reports whether line names group as a whole name, not
// as the start of a longer one ("group:db" is not in "group:db-admins").
func referencesGroup(line, group string) bool {
	for i := 0; i+len(group) <= len(line); {
		j := strings.Index(line[i:], group)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(group)
		if (start == 0 || !isGroupNameByte(line[start-1])) && (end == len(line) || !isGroupNameByte(line[end])) {
			return true
		}
		i = start + 1
	}
	return false
}

// isGroupNameByte reports whether c may be part of a Tailscale group name.
func isGroupNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
}
