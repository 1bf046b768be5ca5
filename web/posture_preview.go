package web

import (
	"context"
	"log/slog"
	"slices"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/policyfile"
)

// posturePreview is the second lock of a resource with devicePosture: the
// attribute each of the grantee's untagged devices carries until the grant
// ends, and the lines of the policy that use it (the postures naming it and
// the rules requiring those postures).
type posturePreview struct {
	Attribute string
	// Postures name the attribute in their conditions.
	Postures []string
	// Unused says that no srcPosture (or defaultSrcPosture) requires a
	// posture naming the attribute: the second lock locks nothing.
	Unused bool
	// Unavailable says why the policy cannot be shown; "" when it can.
	Unavailable string
	Hunks       [][]policyLine
	References  int
	Truncated   bool
}

// posturePreviews reads the current policy once and previews each
// attribute.
func (s *Server) posturePreviews(ctx context.Context, attrs []string) map[string]*posturePreview {
	out := map[string]*posturePreview{}
	if len(attrs) == 0 {
		return out
	}
	text, unavailable := s.currentPolicy(ctx)
	for _, a := range attrs {
		out[a] = previewPosture(text, unavailable, a)
	}
	return out
}

// previewPosture finds how the policy text uses attr.
func previewPosture(text []byte, unavailable, attr string) *posturePreview {
	pv := &posturePreview{Attribute: attr, Unavailable: unavailable}
	if unavailable != "" {
		return pv
	}
	use, err := policyfile.ReadPostureUse(text, attr)
	if err != nil {
		slog.Warn("reading the policy's postures for a preview", "attribute", attr, "err", err)
		pv.Unavailable = "The current tailnet policy could not be read (" + err.Error() + "), so its postures cannot be shown."
		return pv
	}
	pv.Postures, pv.Unused = use.Postures, !use.Required
	lines := previewLines(text, append(slices.Clone(use.Postures), attr))
	pv.Hunks, pv.References, pv.Truncated = lines.Hunks, lines.References, lines.Truncated
	return pv
}

// postureAttributes are the devicePosture attributes of the requests'
// resources, each once.
func postureAttributes(cat *grants.Catalog, reqs []*grants.Request) []string {
	var attrs []string
	for _, r := range reqs {
		if res, ok := cat.Resources[r.Resource]; ok && res.DevicePosture != "" && !slices.Contains(attrs, res.DevicePosture) {
			attrs = append(attrs, res.DevicePosture)
		}
	}
	return attrs
}

// resourceLocks previews both locks of a resource for its page.
func (s *Server) resourceLocks(ctx context.Context, r grants.Resource) *policyPreview {
	pv := s.policyPreviews(ctx, []string{r.Group})[r.Group]
	if r.DevicePosture != "" {
		pv.Posture = s.posturePreviews(ctx, []string{r.DevicePosture})[r.DevicePosture]
	}
	return pv
}
