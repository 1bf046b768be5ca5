package evidence

import (
	"cmp"
	"crypto/ed25519"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"time"
)

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"utc": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"day": func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"num": groupDigits,
	"pct": func(a, b int64) string {
		if b == 0 {
			return "—"
		}
		return formatFixed(100*float64(a)/float64(b), 1) + "%"
	},
	"secs":  formatSeconds,
	"mod2":  func(i int) int { return i % 2 },
	"nouns": nouns,
}).Parse(reportTemplate))

// report gathers, while the other files are written, what report.html says.
type report struct {
	Since, Until, GeneratedAt time.Time
	Signed                    bool
	KeyFingerprint            string
	Audit                     auditStats
	Grants                    grantStats
	Offboard                  offboardStats
	Config                    configStats
	Files                     []FileHash
	Grace                     string
	limit                     int
	grace, window             time.Duration
}

func newReport(p *Packet, since, until, now time.Time) *report {
	r := &report{
		Since: since, Until: until, GeneratedAt: now, Signed: p.SigningKey != nil,
		limit: cmp.Or(p.ListLimit, 50), grace: cmp.Or(p.Grace, time.Minute), window: cmp.Or(p.MatchWindow, 2*time.Minute),
	}
	r.Grace = formatSeconds(r.grace.Seconds())
	r.Audit.actions = map[string]int64{}
	r.Grants.approvers, r.Grants.resources = map[string]int64{}, map[string]int64{}
	if p.SigningKey != nil {
		r.KeyFingerprint = KeyFingerprint(p.SigningKey.Public().(ed25519.PublicKey))
	}
	return r
}

// KeyFingerprint is a short, printable name of a public key: the first 16
// hex digits of its SHA-256.
func KeyFingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// PublicKeyString is a public key as `portal evidence pubkey` prints it.
func PublicKeyString(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

func (r *report) render(w io.Writer) error {
	if err := reportTmpl.Execute(w, r); err != nil {
		return fmt.Errorf("rendering the report: %w", err)
	}
	return nil
}

// count is a name and how often it occurs.
type count struct {
	Name string
	N    int64
}

func top(m map[string]int64, n int) []count {
	out := make([]count, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, count{k, m[k]})
	}
	slices.SortStableFunc(out, func(a, b count) int { return cmp.Compare(b.N, a.N) })
	return out[:min(n, len(out))]
}

// TopApprovers are the people who approved most grants.
func (r *report) TopApprovers() []count { return top(r.Grants.approvers, 10) }

// TopResources are the resources granted most.
func (r *report) TopResources() []count { return top(r.Grants.resources, 10) }

// Actions are the period's audit actions, most frequent first.
func (r *report) Actions() []count { return top(r.Audit.actions, 40) }

// Longest is the longest grant's duration.
func (r *report) Longest() string { return formatSeconds(r.Grants.LongestSeconds) }

// Distributions of the report.
func (r *report) ApprovalApplied() summary {
	return r.Grants.ApprovalApplied.summary("Approval → in the tailnet policy")
}
func (r *report) ExpiryRemoved() summary {
	return r.Grants.ExpiryRemoved.summary("Expiry → removed from the policy")
}
func (r *report) RevokeRemoved() summary {
	return r.Grants.RevokeRemoved.summary("Revocation → removed from the policy")
}
func (r *report) EventRemoved() summary {
	return r.Offboard.EventRemoved.summary("Okta event → removed from the policy")
}

// control is one row of the report's table of controls.
type control struct {
	Name, Status, Class, Evidence string
}

// Controls are the controls the packet evidences, with their verdicts.
func (r *report) Controls() []control {
	g, o, a := &r.Grants, &r.Offboard, &r.Audit
	verdict := func(ok bool) (string, string) {
		if ok {
			return "Met", "ok"
		}
		return "Attention", "warn"
	}
	var out []control
	add := func(name string, ok bool, evidence string) {
		s, c := verdict(ok)
		out = append(out, control{name, s, c, evidence})
	}
	add("Access is requested with a reason", g.WithReason == g.Count,
		fmt.Sprintf("%s of %s carry a reason.", groupDigits(g.WithReason), nouns(g.Count, "grant", "grants")))
	add("Access is approved by someone else", g.SelfApproved == 0,
		fmt.Sprintf("%s approved by its requester; %s approved by people, %s by the on-call rule, %s.",
			nouns(g.SelfApproved, "grant", "grants"), groupDigits(g.ByRequest), groupDigits(g.AutoApproved), nouns(g.Direct, "direct admin grant", "direct admin grants"))+
			fmt.Sprintf(" %s to approve one's own request refused.", nouns(a.SelfApprovalsRefused, "attempt", "attempts")))
	add("Access is time-limited", true,
		fmt.Sprintf("Every grant has an expiry; the longest lasted %s.", r.Longest()))
	add("Access is removed at expiry", g.LateCount == 0,
		fmt.Sprintf("%s not removed within %s of its end; p95 expiry → removed %s.",
			nouns(g.LateCount, "grant", "grants"), r.Grace, formatSeconds(g.ExpiryRemoved.quantile(0.95))))
	add("Access is removed at offboarding", o.Open == 0,
		fmt.Sprintf("%s, %s not yet confirmed removed; p95 Okta event → removed %s.",
			nouns(o.Count, "offboarding", "offboardings"), groupDigits(o.Open), formatSeconds(o.EventRemoved.quantile(0.95))))
	policy := nouns(a.PolicyWrites, "policy write", "policy writes") + " by the portal audited"
	if r.Config.Err == nil {
		policy += fmt.Sprintf("; %s of them matched in Tailscale's own configuration log.", groupDigits(r.Config.Matched))
	} else {
		policy += "; Tailscale's configuration log is not in this packet (" + r.Config.Err.Kind + ")."
	}
	add("Changes to the policy are logged", r.Config.Err == nil && r.Config.Matched >= a.PolicyWrites, policy)
	add("The audit log is intact", a.Chain.Verification.OK,
		fmt.Sprintf("%s checked from the first ever; %s in this period.", nouns(a.Chain.Verification.Checked, "event", "events"), groupDigits(a.Events)))
	return out
}

// nouns is "1 grant" or "2 grants".
func nouns(n int64, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return groupDigits(n) + " " + plural
}

// groupDigits writes 1234567 as "1,234,567".
func groupDigits(n int64) string {
	s := formatInt(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// chart is an inline SVG bar chart of a distribution.
type chart struct {
	Title         string
	Width, Height int
	Base          float64
	Bars          []chartBar
	Empty         bool
}

type chartBar struct {
	X, Y, W, H, Mid float64
	Label, Count    string
}

func newChart(title string, counts []int64) chart {
	c := chart{Title: title, Width: 680, Height: 124, Base: 100}
	top := slices.Max(counts)
	c.Empty = top == 0
	slot := float64(c.Width-20) / float64(len(counts))
	for i, n := range counts {
		h := 0.0
		if top > 0 {
			h = 84 * float64(n) / float64(top)
		}
		if n > 0 {
			h = max(h, 1.5)
		}
		x := 10 + float64(i)*slot
		c.Bars = append(c.Bars, chartBar{X: x + 4, Y: c.Base - h, W: slot - 8, H: h, Mid: x + slot/2,
			Label: chartLabels[i], Count: groupDigits(n)})
	}
	return c
}
