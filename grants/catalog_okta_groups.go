package grants

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
)

// OktaGroupRef is one place in a catalog that names an Okta group.
type OktaGroupRef struct {
	Name string
	// Key is the dotted path of the place: "admins[0]", "groups.group:eng",
	// "resources.prod-db.approvers[1]".
	Key string
	// Line is the 1-based line in the catalog's text; 0 for a catalog built
	// in code.
	Line int
}

// OktaGroupRefs returns every place the catalog names an Okta group, by
// key (without lines).
func (c *Catalog) OktaGroupRefs() []OktaGroupRef {
	var refs []OktaGroupRef
	list := func(key string, names []string) {
		for i, n := range names {
			refs = append(refs, OktaGroupRef{Name: n, Key: fmt.Sprintf("%s[%d]", key, i)})
		}
	}
	list("admins", c.Admins)
	for _, g := range slices.Sorted(maps.Keys(c.Groups)) {
		refs = append(refs, OktaGroupRef{Name: c.Groups[g], Key: "groups." + g})
	}
	for _, name := range c.ResourceNames() {
		r := c.Resources[name]
		list("resources."+name+".eligible", r.Eligible)
		list("resources."+name+".approvers", r.Approvers)
		list("resources."+name+".autoApprove", r.AutoApprove)
	}
	return refs
}

// OktaGroupLookup asks Okta itself whether it has a group of that name.
type OktaGroupLookup func(ctx context.Context, name string) (bool, error)

// maxOktaGroupLookups bounds the Okta calls one catalog check makes; names
// beyond it are judged by the directory snapshot alone.
const maxOktaGroupLookups = 10

// SetOktaGroupLookup lets CheckOktaGroups ask Okta about a name the
// directory snapshot lacks (a group created since the last poll).
func (s *CatalogStore) SetOktaGroupLookup(lookup OktaGroupLookup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookup = lookup
}

// CheckOktaGroups refuses a catalog that names an Okta group the directory
// does not know where before did not name it: a typo in approvers would
// leave requests nobody can approve, one in eligible would let nobody ask.
// The answer is a *CatalogError naming the key. Names before already had
// are not refused: an Okta group deleted since is the poller's warning, not
// a reason to refuse an unrelated change. A name the snapshot lacks is looked up in Okta when a lookup is
// set; until a poll has completed a read of Okta, the lookup is the only
// judge, and without one nothing is refused.
func (s *CatalogStore) CheckOktaGroups(ctx context.Context, before, proposed *Catalog) error {
	return s.checkOktaGroups(ctx, "catalog", before, proposed.OktaGroupRefs())
}

// checkOktaGroups is CheckOktaGroups of the places refs of the catalog
// text file (which carry their lines).
func (s *CatalogStore) checkOktaGroups(ctx context.Context, file string, before *Catalog, refs []OktaGroupRef) error {
	had := map[string]bool{}
	for _, ref := range before.OktaGroupRefs() {
		had[ref.Name] = true
	}
	var fresh []OktaGroupRef
	var names []string
	for _, ref := range refs {
		if !had[ref.Name] {
			fresh = append(fresh, ref)
			names = append(names, ref.Name)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	var st SyncStatus
	if err := s.db.WithContext(ctx).Where("id = 1").Limit(1).Find(&st).Error; err != nil {
		return fmt.Errorf("reading sync status: %w", err)
	}
	known := map[string]bool{}
	if st.DirectoryReadAt != nil {
		var found []string
		if err := s.db.WithContext(ctx).Model(&DirectoryGroup{}).Distinct("name").Where("name IN ?", names).Pluck("name", &found).Error; err != nil {
			return fmt.Errorf("reading Okta groups: %w", err)
		}
		for _, n := range found {
			known[n] = true
		}
	}
	s.mu.RLock()
	lookup := s.lookup
	s.mu.RUnlock()
	if st.DirectoryReadAt == nil && lookup == nil {
		return nil
	}
	lookups := map[string]error{} // the names asked of Okta, with the error
	for _, ref := range fresh {
		if known[ref.Name] {
			continue
		}
		err, asked := lookups[ref.Name]
		if !asked && lookup != nil && len(lookups) < maxOktaGroupLookups {
			found, lerr := lookup(ctx, ref.Name)
			if found {
				known[ref.Name] = true
				continue
			}
			lookups[ref.Name], err, asked = lerr, lerr, true
		}
		// Before a read of Okta, only Okta's own answer refuses a name.
		if st.DirectoryReadAt == nil && (!asked || err != nil) {
			if err != nil {
				slog.Warn("an Okta group the catalog names could not be checked", "group", ref.Name, "err", err)
			}
			continue
		}
		return unknownOktaGroup(file, ref, err)
	}
	return nil
}

// unknownOktaGroup is the refusal of a name neither the snapshot nor Okta
// knows.
func unknownOktaGroup(file string, ref OktaGroupRef, lookupErr error) *CatalogError {
	msg := fmt.Sprintf("Okta group %q is not in the Okta directory; check its spelling (names are exact, case included)", ref.Name)
	if lookupErr != nil {
		msg += fmt.Sprintf(" (Okta could not be asked: %v)", lookupErr)
	}
	return &CatalogError{File: file, Line: ref.Line, Key: ref.Key, Msg: msg}
}
