package grants

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tailscale/hujson"

	"github.com/accessportal/portal/grants/nesting"
)

// Defaults applied to a resource when the catalog leaves a field out.
const (
	defaultApprovals       = 1             // distinct approvers a request needs
	defaultMaxDuration     = 8 * time.Hour // longest grant
	defaultRequestDuration = time.Hour     // offered duration, capped at maxDuration
)

// Catalog is what people may request and which Okta groups feed which
// Tailscale groups. It is read from the catalog file (HuJSON) or from the
// database; see ParseCatalog for the rules it obeys.
type Catalog struct {
	// Admins are the Okta group names whose members administer the portal.
	Admins []string
	// Groups maps a synced Tailscale group ("group:eng") to the Okta group
	// whose ACTIVE members it holds ("Engineering").
	Groups map[string]string
	// Resources are what people may request, by resource name.
	Resources map[string]Resource
	// KeepEmpty are Tailscale groups the portal manages with no members: a
	// removed synced group whose members were taken out, kept managed so
	// that nobody hand-adds members to it unnoticed. Sorted; nil when none.
	KeepEmpty []string
	// DeleteDevices says that offboarding also deletes the person's
	// Tailscale devices ("offboarding": {"tailscaleDevices": "delete"});
	// the default keeps them.
	DeleteDevices bool
}

// Resource is one thing people may request: membership of one Tailscale
// group for a limited time.
type Resource struct {
	// Name is the resource's key in "resources".
	Name string
	// Description tells people what the resource is.
	Description string
	// Group is the Tailscale group ("group:jit-prod-db") holding the
	// resource's current grantees.
	Group string
	// Eligible are the Okta groups whose members may request the resource;
	// empty means anyone.
	Eligible []string
	// Approvers are the Okta groups whose members may approve requests;
	// empty means the portal admins.
	Approvers []string
	// Approvals is how many distinct approvers a request needs (default 1).
	Approvals int
	// AutoApprove are the Okta groups whose members' requests are approved
	// at once.
	AutoApprove []string
	// MaxDuration is the longest grant that may be requested (default 8h).
	MaxDuration time.Duration
	// DefaultDuration is the duration offered when a request names none
	// (default the shorter of 1h and MaxDuration).
	DefaultDuration time.Duration
	// RequireReason says whether a request must carry a reason.
	RequireReason bool
	// Retired resources take no new requests; their active grants run to
	// expiry (or are revoked) and their group stays managed meanwhile.
	Retired bool
	// OnCall approves at once a requester who is on call now in one of its
	// PagerDuty schedules; nil when the resource has no on-call rule.
	OnCall *OnCall
	// DevicePosture is a "custom:" device posture attribute set, with the
	// grant's expiry, on every untagged device of a grantee: a second lock
	// Tailscale itself enforces. Empty: none.
	DevicePosture string
}

// OnCall is a resource's on-call rule (catalog key "onCall").
type OnCall struct {
	// PagerDutySchedules are the schedule ids whose on-call people are
	// approved at once.
	PagerDutySchedules []string
	// MaxDuration caps an on-call approval (default: the resource's).
	MaxDuration time.Duration
	// EndWithShift ends the grant when the shift ends (default true).
	EndWithShift bool
}

// CatalogError is a validation error in a catalog: the file, the 1-based
// line and the key path ("resources.prod-db.maxDuration") where it was found.
type CatalogError struct {
	// File is the file name given to ParseCatalog.
	File string
	// Line is the 1-based line of the offending key or value; 0 when unknown.
	Line int
	// Key is the dotted path of the offending key; empty for the whole file.
	Key string
	// Msg says what is wrong.
	Msg string
}

// Error renders the error as "file:line: key: message", leaving out the
// line when it is 0 and the key when it is empty.
func (e *CatalogError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadCatalogFile reads and parses the catalog file at path.
func LoadCatalogFile(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading catalog: %w", err)
	}
	return ParseCatalog(path, data)
}

// ParseCatalog parses and validates HuJSON (or plain JSON) catalog text.
// filename is used only in error messages. Every failure is a
// *CatalogError naming the line and key.
//
// Absent fields take their defaults (approvals 1, maxDuration 8h,
// defaultDuration the shorter of 1h and maxDuration); empty lists are nil;
// Groups and Resources are never nil. Empty text, or text holding only
// comments, is a valid empty catalog.
func ParseCatalog(filename string, data []byte) (*Catalog, error) {
	c, _, err := parseCatalog(filename, data)
	return c, err
}

// parseCatalog is ParseCatalog that also returns where the text names Okta
// groups, with their lines.
func parseCatalog(filename string, data []byte) (*Catalog, []OktaGroupRef, error) {
	p := &catalogParser{
		file: filename,
		// hujson.Parse aliases its input: parse a private copy.
		src: bytes.TrimPrefix(bytes.Clone(data), []byte("\uFEFF")),
	}
	c, err := p.parse()
	return c, p.refs, err
}

// ResourceNames returns the names of the catalog's resources, sorted.
func (c *Catalog) ResourceNames() []string {
	names := make([]string, 0, len(c.Resources))
	for name := range c.Resources {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// ManagedGroups returns every Tailscale group the portal owns, sorted: the
// synced groups (the keys of Groups), each resource's Group and the groups
// kept empty.
func (c *Catalog) ManagedGroups() []string {
	groups := make([]string, 0, len(c.Groups)+len(c.Resources)+len(c.KeepEmpty))
	for group := range c.Groups {
		groups = append(groups, group)
	}
	for _, r := range c.Resources {
		groups = append(groups, r.Group)
	}
	groups = append(groups, c.KeepEmpty...)
	slices.Sort(groups)
	return slices.Compact(groups)
}

// Format renders the catalog as HuJSON in the catalog file's format: 2-space
// indent, trailing commas, root keys in the order admins, groups, resources
// (then keepEmpty, only when it names a group), map keys sorted, durations as
// short Go durations ("4h", "1h30m").
// Approvals, maxDuration, defaultDuration and requireReason are always
// written so that the defaults in force are visible; zero counts and
// durations are left out so that parsing applies the defaults; retired is
// written only when true.
func (c *Catalog) Format() []byte { return c.format("", nil) }

// format is Format with the resource named typed, when typed is not "",
// written as an admin typed it (t) instead of from Resources.
func (c *Catalog) format(typed string, t *ResourceText) []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	fmt.Fprintf(&b, "  \"admins\": %s,\n", formatStringList(c.Admins))

	b.WriteString(`  "groups": {`)
	if len(c.Groups) > 0 {
		b.WriteString("\n")
		for _, group := range slices.Sorted(maps.Keys(c.Groups)) {
			fmt.Fprintf(&b, "    %s: %s,\n", quote(group), quote(c.Groups[group]))
		}
		b.WriteString("  ")
	}
	b.WriteString("},\n")

	b.WriteString(`  "resources": {`)
	names := c.ResourceNames()
	if typed != "" && !slices.Contains(names, typed) {
		names = slices.Sorted(slices.Values(append(names, typed)))
	}
	if len(names) > 0 {
		b.WriteString("\n")
		for _, name := range names {
			fmt.Fprintf(&b, "    %s: {\n", quote(name))
			if name == typed {
				t.format(&b)
			} else {
				formatResource(&b, c.Resources[name])
			}
			b.WriteString("    },\n")
		}
		b.WriteString("  ")
	}
	b.WriteString("},\n")
	if c.DeleteDevices {
		b.WriteString("  \"offboarding\": {\"tailscaleDevices\": \"delete\"},\n")
	}
	if len(c.KeepEmpty) > 0 {
		keep := slices.Sorted(slices.Values(c.KeepEmpty))
		fmt.Fprintf(&b, "  \"keepEmpty\": %s,\n", formatStringList(keep))
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// MarshalJSON renders the catalog as compact standard JSON in the same shape
// as the catalog file, so that the result parses back with ParseCatalog.
func (c *Catalog) MarshalJSON() ([]byte, error) {
	std, err := hujson.Standardize(c.Format())
	if err != nil {
		return nil, fmt.Errorf("standardizing catalog: %w", err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, std); err != nil {
		return nil, fmt.Errorf("compacting catalog: %w", err)
	}
	return out.Bytes(), nil
}

// formatResource writes the members of one resource object at depth 3.
func formatResource(b *bytes.Buffer, r Resource) {
	member := func(key, value string) {
		fmt.Fprintf(b, "      %q: %s,\n", key, value)
	}
	if r.Description != "" {
		member("description", quote(r.Description))
	}
	member("group", quote(r.Group))
	if len(r.Eligible) > 0 {
		member("eligible", formatStringList(r.Eligible))
	}
	if len(r.Approvers) > 0 {
		member("approvers", formatStringList(r.Approvers))
	}
	if r.Approvals > 0 {
		member("approvals", strconv.Itoa(r.Approvals))
	}
	if len(r.AutoApprove) > 0 {
		member("autoApprove", formatStringList(r.AutoApprove))
	}
	if r.MaxDuration > 0 {
		member("maxDuration", strconv.Quote(formatDuration(r.MaxDuration)))
	}
	if r.DefaultDuration > 0 {
		member("defaultDuration", strconv.Quote(formatDuration(r.DefaultDuration)))
	}
	member("requireReason", strconv.FormatBool(r.RequireReason))
	if r.Retired {
		member("retired", "true")
	}
	if r.OnCall != nil {
		member("onCall", fmt.Sprintf(`{"pagerdutySchedules": %s, "maxDuration": %q, "endWithShift": %t}`,
			formatStringList(r.OnCall.PagerDutySchedules), formatDuration(r.OnCall.MaxDuration), r.OnCall.EndWithShift))
	}
	if r.DevicePosture != "" {
		member("devicePosture", quote(r.DevicePosture))
	}
}

// formatStringList renders a list of strings on one line: ["a", "b"].
func formatStringList(list []string) string {
	var b strings.Builder
	b.WriteString("[")
	for i, s := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(s))
	}
	b.WriteString("]")
	return b.String()
}

// quote renders s as a JSON string without escaping HTML characters.
func quote(s string) string {
	// hujson.Literal's String method unquotes; convert, don't format with %s.
	return string(hujson.String(s))
}

// formatDuration renders d as a Go duration without useless zero units:
// "4h" rather than "4h0m0s", "1h30m" rather than "1h30m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// catalogParser walks the hujson syntax tree of one catalog, keeping byte
// offsets so that every error names its line.
type catalogParser struct {
	file string
	src  []byte
	// refs are the Okta group names read so far, with where they are.
	refs []OktaGroupRef
}

// placedGroup is a Tailscale group named somewhere in the file, remembered
// for the checks that span sections.
type placedGroup struct {
	name     string
	key      string
	line     int
	resource string // the resource whose group it is; empty for a synced group
}

func (p *catalogParser) parse() (*Catalog, error) {
	c := &Catalog{Groups: map[string]string{}, Resources: map[string]Resource{}}
	var deep *nesting.Error
	if errors.As(nesting.Check(p.src, nesting.Max), &deep) {
		return nil, &CatalogError{File: p.file, Line: deep.Line, Msg: fmt.Sprintf("objects and lists nested deeper than %d levels", deep.Max)}
	}
	root, err := hujson.Parse(p.src)
	if err != nil && !bytes.HasSuffix(p.src, []byte("\n")) {
		// hujson wants a line comment to end with a newline; a file may
		// end with one that does not.
		withNewline := append(p.src, '\n')
		if fixed, ferr := hujson.Parse(withNewline); ferr == nil {
			p.src, root, err = withNewline, fixed, nil
		}
	}
	if err != nil {
		if p.onlyComments(err) {
			return c, nil
		}
		return nil, p.syntaxError(err)
	}
	obj, ok := root.Value.(*hujson.Object)
	if !ok {
		return nil, p.errorAt(&root, "", "the catalog must be an object, not %s", describe(&root))
	}

	var synced, resourceGroups, keepEmpty []placedGroup
	err = p.eachMember(obj, "", func(name string, m *hujson.ObjectMember) error {
		var err error
		switch name {
		case "admins":
			c.Admins, err = p.oktaGroupList(&m.Value, "admins")
		case "groups":
			synced, err = p.syncedGroups(&m.Value, c)
		case "resources":
			resourceGroups, err = p.resources(&m.Value, c)
		case "keepEmpty":
			keepEmpty, err = p.keepEmpty(&m.Value, c)
		case "offboarding":
			err = p.offboarding(&m.Value, c)
		default:
			return p.unknownKey(m, name, "", "admins", "groups", "resources", "keepEmpty", "offboarding")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := p.checkKeepEmpty(keepEmpty, append(synced, resourceGroups...)); err != nil {
		return nil, err
	}
	if err := p.checkGroupOwnership(synced, resourceGroups); err != nil {
		return nil, err
	}
	return c, nil
}

// offboarding reads {"tailscaleDevices": "keep"|"delete"}.
func (p *catalogParser) offboarding(v *hujson.Value, c *Catalog) error {
	obj, err := p.object(v, "offboarding")
	if err != nil {
		return err
	}
	return p.eachMember(obj, "offboarding", func(name string, m *hujson.ObjectMember) error {
		if name != "tailscaleDevices" {
			return p.unknownKey(m, name, "offboarding", "tailscaleDevices")
		}
		mode, err := p.str(&m.Value, "offboarding.tailscaleDevices")
		if err != nil {
			return err
		}
		switch mode {
		case "keep":
		case "delete":
			c.DeleteDevices = true
		default:
			return p.errorAt(&m.Value, "offboarding.tailscaleDevices", "must be \"keep\" or \"delete\", not %q", mode)
		}
		return nil
	})
}

// checkGroupOwnership enforces that a Tailscale group is either synced or
// one resource's group, never both and never two resources'.
func (p *catalogParser) checkGroupOwnership(synced, resourceGroups []placedGroup) error {
	owner := make(map[string]placedGroup, len(synced)+len(resourceGroups))
	for _, g := range synced {
		owner[g.name] = g
	}
	for _, g := range resourceGroups {
		prev, taken := owner[g.name]
		switch {
		case taken && prev.resource == "":
			return &CatalogError{File: p.file, Line: g.line, Key: g.key, Msg: fmt.Sprintf(
				"%q is also a synced group (groups, line %d); a Tailscale group is either synced from Okta or a resource's group, never both",
				g.name, prev.line)}
		case taken:
			return &CatalogError{File: p.file, Line: g.line, Key: g.key, Msg: fmt.Sprintf(
				"%q is already the group of resource %q (line %d); each resource needs its own Tailscale group",
				g.name, prev.resource, prev.line)}
		}
		owner[g.name] = g
	}
	return nil
}

// keepEmpty decodes "keepEmpty" into c.KeepEmpty (sorted): a list of
// distinct Tailscale group names.
func (p *catalogParser) keepEmpty(v *hujson.Value, c *Catalog) ([]placedGroup, error) {
	arr, ok := v.Value.(*hujson.Array)
	if !ok {
		return nil, p.errorAt(v, "keepEmpty", "must be a list of Tailscale groups, not %s", describe(v))
	}
	var placed []placedGroup
	seen := map[string]int{}
	for i := range arr.Elements {
		elem := &arr.Elements[i]
		key := fmt.Sprintf("keepEmpty[%d]", i)
		group, err := p.str(elem, key)
		if err != nil {
			return nil, err
		}
		if msg := checkTailscaleGroup(group); msg != "" {
			return nil, p.errorAt(elem, key, "%s", msg)
		}
		if first, dup := seen[group]; dup {
			return nil, p.errorAt(elem, key, "%q is listed twice (first on line %d)", group, first)
		}
		seen[group] = p.line(elem)
		placed = append(placed, placedGroup{name: group, key: key, line: p.line(elem)})
		c.KeepEmpty = append(c.KeepEmpty, group)
	}
	slices.Sort(c.KeepEmpty)
	return placed, nil
}

// checkKeepEmpty refuses a group kept empty that is also synced or a
// resource's group: it would be asked to be empty and full at once.
func (p *catalogParser) checkKeepEmpty(keepEmpty, others []placedGroup) error {
	for _, k := range keepEmpty {
		for _, o := range others {
			if o.name != k.name {
				continue
			}
			what := "a synced group (groups"
			if o.resource != "" {
				what = fmt.Sprintf("the group of resource %q (resources", o.resource)
			}
			return &CatalogError{File: p.file, Line: k.line, Key: k.key, Msg: fmt.Sprintf(
				"%q is also %s, line %d); a group kept empty is managed with no members, so it cannot be synced or a resource's group too",
				k.name, what, o.line)}
		}
	}
	return nil
}

// syncedGroups decodes "groups" into c.Groups.
func (p *catalogParser) syncedGroups(v *hujson.Value, c *Catalog) ([]placedGroup, error) {
	obj, err := p.object(v, "groups")
	if err != nil {
		return nil, err
	}
	var placed []placedGroup
	err = p.eachMember(obj, "groups", func(group string, m *hujson.ObjectMember) error {
		key := "groups." + group
		if msg := checkTailscaleGroup(group); msg != "" {
			return p.errorAt(&m.Name, key, "%s", msg)
		}
		okta, err := p.oktaGroup(&m.Value, key)
		if err != nil {
			return err
		}
		c.Groups[group] = okta
		placed = append(placed, placedGroup{name: group, key: key, line: p.line(&m.Name)})
		return nil
	})
	return placed, err
}

// resources decodes "resources" into c.Resources.
func (p *catalogParser) resources(v *hujson.Value, c *Catalog) ([]placedGroup, error) {
	obj, err := p.object(v, "resources")
	if err != nil {
		return nil, err
	}
	var placed []placedGroup
	err = p.eachMember(obj, "resources", func(name string, m *hujson.ObjectMember) error {
		r, group, err := p.resource(name, m)
		if err != nil {
			return err
		}
		c.Resources[name] = r
		placed = append(placed, group)
		return nil
	})
	return placed, err
}

// resourceKeys are the keys a resource object may hold.
var resourceKeys = []string{
	"description", "group", "eligible", "approvers", "approvals",
	"autoApprove", "maxDuration", "defaultDuration", "requireReason", "retired",
	"onCall", "devicePosture",
}

// resource decodes one member of "resources", applies the defaults and
// checks the durations against each other.
func (p *catalogParser) resource(name string, m *hujson.ObjectMember) (Resource, placedGroup, error) {
	prefix := "resources." + name
	r := Resource{Name: name}
	var group placedGroup
	if msg := checkResourceName(name); msg != "" {
		return r, group, p.errorAt(&m.Name, prefix, "%s", msg)
	}
	obj, err := p.object(&m.Value, prefix)
	if err != nil {
		return r, group, err
	}
	var defaultDuration, onCall *hujson.Value
	err = p.eachMember(obj, prefix, func(field string, fm *hujson.ObjectMember) error {
		key := prefix + "." + field
		v := &fm.Value
		var err error
		switch field {
		case "description":
			r.Description, err = p.str(v, key)
		case "group":
			if r.Group, err = p.str(v, key); err != nil {
				return err
			}
			if msg := checkTailscaleGroup(r.Group); msg != "" {
				return p.errorAt(v, key, "%s", msg)
			}
			group = placedGroup{name: r.Group, key: key, line: p.line(v), resource: name}
		case "eligible":
			r.Eligible, err = p.oktaGroupList(v, key)
		case "approvers":
			r.Approvers, err = p.oktaGroupList(v, key)
		case "approvals":
			r.Approvals, err = p.positiveInt(v, key)
		case "autoApprove":
			r.AutoApprove, err = p.oktaGroupList(v, key)
		case "maxDuration":
			r.MaxDuration, err = p.duration(v, key)
		case "defaultDuration":
			r.DefaultDuration, err = p.duration(v, key)
			defaultDuration = v
		case "requireReason":
			r.RequireReason, err = p.boolean(v, key)
		case "retired":
			r.Retired, err = p.boolean(v, key)
		case "onCall":
			r.OnCall, err = p.onCall(v, key)
			onCall = v
		case "devicePosture":
			if r.DevicePosture, err = p.str(v, key); err == nil && !validPostureKey(r.DevicePosture) {
				return p.errorAt(v, key, "%q is not a custom device posture attribute (want custom: followed by letters, digits, _ or -)", r.DevicePosture)
			}
		default:
			return p.unknownKey(fm, field, prefix, resourceKeys...)
		}
		return err
	})
	if err != nil {
		return r, group, err
	}
	if r.Group == "" {
		return r, group, p.errorAt(&m.Name, prefix+".group",
			"missing: every resource needs the Tailscale group (\"group:…\") that holds its grantees")
	}
	if r.Approvals == 0 {
		r.Approvals = defaultApprovals
	}
	maxNote := ""
	if r.MaxDuration == 0 {
		r.MaxDuration = defaultMaxDuration
		maxNote = " (the default)"
	}
	if r.DefaultDuration == 0 {
		r.DefaultDuration = min(defaultRequestDuration, r.MaxDuration)
	}
	if r.DefaultDuration > r.MaxDuration {
		return r, group, p.errorAt(defaultDuration, prefix+".defaultDuration",
			"%s is longer than maxDuration %s%s", formatDuration(r.DefaultDuration), formatDuration(r.MaxDuration), maxNote)
	}
	if r.OnCall != nil {
		switch {
		case r.OnCall.MaxDuration == 0:
			r.OnCall.MaxDuration = r.MaxDuration
		case r.OnCall.MaxDuration > r.MaxDuration:
			return r, group, p.errorAt(onCall, prefix+".onCall.maxDuration",
				"%s is longer than the resource's maxDuration %s%s", formatDuration(r.OnCall.MaxDuration), formatDuration(r.MaxDuration), maxNote)
		}
	}
	return r, group, nil
}

// onCall decodes a resource's "onCall" rule.
func (p *catalogParser) onCall(v *hujson.Value, key string) (*OnCall, error) {
	obj, err := p.object(v, key)
	if err != nil {
		return nil, err
	}
	oc := &OnCall{EndWithShift: true}
	err = p.eachMember(obj, key, func(field string, fm *hujson.ObjectMember) error {
		fkey := key + "." + field
		var err error
		switch field {
		case "pagerdutySchedules":
			oc.PagerDutySchedules, err = p.scheduleList(&fm.Value, fkey)
		case "maxDuration":
			oc.MaxDuration, err = p.duration(&fm.Value, fkey)
		case "endWithShift":
			oc.EndWithShift, err = p.boolean(&fm.Value, fkey)
		default:
			return p.unknownKey(fm, field, key, "pagerdutySchedules", "maxDuration", "endWithShift")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(oc.PagerDutySchedules) == 0 {
		return nil, p.errorAt(v, key+".pagerdutySchedules", "missing: name at least one PagerDuty schedule id")
	}
	return oc, nil
}

// scheduleList decodes a list of PagerDuty schedule ids (letters and
// digits, e.g. "PABC123").
func (p *catalogParser) scheduleList(v *hujson.Value, key string) ([]string, error) {
	arr, ok := v.Value.(*hujson.Array)
	if !ok {
		return nil, p.errorAt(v, key, "want a list of PagerDuty schedule ids, got %s", describe(v))
	}
	var out []string
	for i := range arr.Elements {
		e := &arr.Elements[i]
		id, err := p.str(e, key)
		if err != nil {
			return nil, err
		}
		if id == "" || !isAlnumString(id) {
			return nil, p.errorAt(e, key, "%q is not a PagerDuty schedule id (letters and digits, e.g. PABC123)", id)
		}
		if slices.Contains(out, id) {
			return nil, p.errorAt(e, key, "%q is listed twice", id)
		}
		out = append(out, id)
	}
	return out, nil
}

func isAlnumString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// validPostureKey reports whether key is a custom posture attribute name.
func validPostureKey(key string) bool {
	name, ok := strings.CutPrefix(key, "custom:")
	if !ok || name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// eachMember calls f for every member of obj in file order, after checking
// that the member's name is not a duplicate. prefix is the key path of obj.
func (p *catalogParser) eachMember(obj *hujson.Object, prefix string, f func(name string, m *hujson.ObjectMember) error) error {
	seen := make(map[string]int, len(obj.Members))
	for i := range obj.Members {
		m := &obj.Members[i]
		name := m.Name.Value.(hujson.Literal).String()
		line := p.line(&m.Name)
		if first, dup := seen[name]; dup {
			return p.errorAt(&m.Name, joinKey(prefix, name), "duplicate key (first on line %d)", first)
		}
		seen[name] = line
		if err := f(name, m); err != nil {
			return err
		}
	}
	return nil
}

// unknownKey reports a key the catalog does not know, suggesting the known
// key it differs from only by case.
func (p *catalogParser) unknownKey(m *hujson.ObjectMember, name, prefix string, known ...string) error {
	msg := "unknown key"
	for _, k := range known {
		if strings.EqualFold(k, name) {
			msg += fmt.Sprintf(" (did you mean %q?)", k)
			break
		}
	}
	return p.errorAt(&m.Name, joinKey(prefix, name), "%s", msg)
}

func (p *catalogParser) object(v *hujson.Value, key string) (*hujson.Object, error) {
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		return nil, p.errorAt(v, key, "must be an object, not %s", describe(v))
	}
	return obj, nil
}

func (p *catalogParser) str(v *hujson.Value, key string) (string, error) {
	lit, ok := v.Value.(hujson.Literal)
	if !ok || lit.Kind() != '"' {
		return "", p.errorAt(v, key, "must be a string, not %s", describe(v))
	}
	return lit.String(), nil
}

func (p *catalogParser) boolean(v *hujson.Value, key string) (bool, error) {
	lit, ok := v.Value.(hujson.Literal)
	if !ok || (lit.Kind() != 't' && lit.Kind() != 'f') {
		return false, p.errorAt(v, key, "must be true or false, not %s", describe(v))
	}
	return lit.Bool(), nil
}

func (p *catalogParser) positiveInt(v *hujson.Value, key string) (int, error) {
	lit, ok := v.Value.(hujson.Literal)
	if !ok || lit.Kind() != '0' {
		return 0, p.errorAt(v, key, "must be a whole number, not %s", describe(v))
	}
	n, err := strconv.Atoi(string(lit))
	if err != nil {
		return 0, p.errorAt(v, key, "must be a whole number, not %s", lit)
	}
	if n < 1 {
		return 0, p.errorAt(v, key, "must be at least 1, not %d", n)
	}
	return n, nil
}

func (p *catalogParser) duration(v *hujson.Value, key string) (time.Duration, error) {
	s, err := p.str(v, key)
	if err != nil {
		return 0, p.errorAt(v, key, "must be a duration string such as \"4h\" or \"90m\", not %s", describe(v))
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, p.errorAt(v, key, "invalid duration %q (use Go durations such as \"90s\", \"15m\", \"4h\")", s)
	}
	if d <= 0 {
		return 0, p.errorAt(v, key, "duration %q must be positive", s)
	}
	return d, nil
}

// oktaGroup decodes one Okta group name: a string that is not blank.
func (p *catalogParser) oktaGroup(v *hujson.Value, key string) (string, error) {
	s, err := p.str(v, key)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(s) == "" {
		return "", p.errorAt(v, key, "an Okta group name must not be empty")
	}
	p.refs = append(p.refs, OktaGroupRef{Name: s, Key: key, Line: p.line(v)})
	return s, nil
}

// oktaGroupList decodes a list of distinct Okta group names; an empty list
// is nil.
func (p *catalogParser) oktaGroupList(v *hujson.Value, key string) ([]string, error) {
	arr, ok := v.Value.(*hujson.Array)
	if !ok {
		return nil, p.errorAt(v, key, "must be a list of Okta group names, not %s", describe(v))
	}
	var list []string
	seen := make(map[string]int, len(arr.Elements))
	for i := range arr.Elements {
		elem := &arr.Elements[i]
		elemKey := fmt.Sprintf("%s[%d]", key, i)
		name, err := p.oktaGroup(elem, elemKey)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[name]; dup {
			return nil, p.errorAt(elem, elemKey, "%q is listed twice (first on line %d)", name, first)
		}
		seen[name] = p.line(elem)
		list = append(list, name)
	}
	return list, nil
}

// checkTailscaleGroup returns what is wrong with a Tailscale group name, or
// "" when it is fine: "group:" followed by letters, digits, '-', '_', '.'.
func checkTailscaleGroup(group string) string {
	name, ok := strings.CutPrefix(group, "group:")
	switch {
	case !ok:
		return fmt.Sprintf("Tailscale group %q must start with \"group:\"", group)
	case name == "":
		return fmt.Sprintf("Tailscale group %q needs a name after \"group:\"", group)
	case !isNameChars(name):
		return fmt.Sprintf("Tailscale group %q may only use letters, digits, '-', '_' and '.' after \"group:\"", group)
	}
	return ""
}

// checkResourceName returns what is wrong with a resource name, or "" when
// it is fine: letters, digits, '-', '_', '.', starting with a letter or digit.
func checkResourceName(name string) string {
	if name == "" || !isNameChars(name) || !isAlnum(name[0]) {
		return fmt.Sprintf("invalid resource name %q: use letters, digits, '-', '_' and '.', starting with a letter or digit", name)
	}
	return ""
}

func isNameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// describe names the kind of a JSON value for error messages.
func describe(v *hujson.Value) string {
	switch v.Value.Kind() {
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "a list"
	}
	return "an invalid value"
}

// line returns the 1-based line on which v starts.
func (p *catalogParser) line(v *hujson.Value) int {
	return 1 + bytes.Count(p.src[:v.StartOffset], []byte("\n"))
}

func (p *catalogParser) errorAt(v *hujson.Value, key, format string, args ...any) *CatalogError {
	return &CatalogError{File: p.file, Line: p.line(v), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// onlyComments reports whether a parse failure is due to text that holds
// nothing but whitespace and comments, which is an empty catalog.
func (p *catalogParser) onlyComments(err error) bool {
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		return false
	}
	probe, perr := hujson.Parse(append(bytes.Clone(p.src), "\nnull"...))
	if perr != nil {
		return false
	}
	lit, ok := probe.Value.(hujson.Literal)
	return ok && lit.Kind() == 'n'
}

// syntaxError turns a hujson parse error ("hujson: line 3, column 7: …")
// into a CatalogError carrying the line.
func (p *catalogParser) syntaxError(err error) *CatalogError {
	var line, column int
	msg := err.Error()
	if _, serr := fmt.Sscanf(msg, "hujson: line %d, column %d:", &line, &column); serr == nil {
		if _, rest, ok := strings.Cut(msg, fmt.Sprintf("column %d: ", column)); ok {
			msg = rest
		}
		return &CatalogError{File: p.file, Line: line, Msg: fmt.Sprintf("syntax error at column %d: %s", column, msg)}
	}
	return &CatalogError{File: p.file, Msg: "syntax error: " + strings.TrimPrefix(msg, "hujson: ")}
}
