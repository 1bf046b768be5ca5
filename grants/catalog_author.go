package grants

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// checkAuthor refuses a catalog change that would let its author approve
// themselves: a resource where, after the change, their requests would be
// approved at once (an Okta group of theirs in autoApprove) while before it
// they were not. (An onCall schedule the author is on call in is refused
// where PagerDuty can be asked: the web layer checks it with PagerDuty.) Another admin
// must make such a change. An author unknown to the directory (the command
// line, the demo) is not a requester and is not checked. A catalog with no
// admins is refused whoever makes it: it locks every admin out.
func checkAuthor(ctx context.Context, tx *gorm.DB, before, after *Catalog, actor string) error {
	if len(after.Admins) == 0 {
		return refuse(ErrInvalid, "the catalog must name at least one Okta group in admins: without one nobody could administer the portal")
	}
	p, err := LookupPerson(ctx, tx, actor)
	if errors.Is(err, ErrUnknownPerson) {
		return nil
	}
	if err != nil {
		return err
	}
	var why []string
	for _, name := range after.ResourceNames() {
		r := after.Resources[name]
		if r.Retired || !r.MayRequest(p) {
			continue
		}
		old, existed := before.Resources[name]
		wasEligible := existed && !old.Retired && old.MayRequest(p)
		if mine := myGroups(p, r.AutoApprove); len(mine) > 0 && !(wasEligible && p.InAny(old.AutoApprove)) {
			why = append(why, fmt.Sprintf("resource %q: autoApprove would approve your own requests (you are in %s)", name, quoteList(mine)))
		}
	}
	if len(why) > 0 {
		return refuse(ErrConflict, "%s; another admin must make this change", strings.Join(why, "; "))
	}
	return nil
}

// myGroups are the groups among names that p is in.
func myGroups(p *Person, names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(g string) bool { return !p.InAny([]string{g}) })
}
