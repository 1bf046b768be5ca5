package okta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/accessportal/portal/grants"
)

// read is what a poll read from Okta: the snapshot rows, and what the
// poll itself needs to know.
type read struct {
	*grants.DirectoryRead
	login string // the profile attribute that is the Tailscale login
	// readFrom is the Date of Okta's first answer.
	readFrom time.Time
	// missingWanted are wanted names no group has.
	missingWanted []string
}

func (d *Directory) newRead() *read {
	return &read{DirectoryRead: grants.NewDirectoryRead(), login: d.login}
}

// addUser keeps the newest copy of a user read more than once.
func (r *read) addUser(u *okta.User) {
	if u != nil && u.Id != "" {
		r.AddUser(userRow(u, r.login))
	}
}

func (r *read) addGroup(g *okta.Group) {
	if g != nil && g.Id != "" {
		r.Groups[g.Id] = groupRow(g)
	}
}

func (d *Directory) readFull(ctx context.Context, store *grants.Store, snap *grants.DirectoryMeta, wanted map[string]bool) (*read, error) {
	r := d.newRead()
	// Okta's plain list hides DEPROVISIONED users; a status filter returns them.
	for i, qp := range []*query.Params{
		{Limit: d.pageLimit},
		{Limit: d.pageLimit, Filter: `status eq "DEPROVISIONED"`},
	} {
		users, date, err := d.listUsers(ctx, qp)
		if i == 1 && unsupportedQuery(err) {
			// Without the status filter, deactivated users the snapshot
			// knows are still found: the ones missing from the plain list
			// are read one by one below.
			slog.Warn("okta refused the DEPROVISIONED filter", "err", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		if i == 0 {
			r.readFrom = date
		}
		for _, u := range users {
			r.addUser(u)
		}
	}
	groups, _, err := d.listGroups(ctx, &query.Params{Limit: d.pageLimit})
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		r.addGroup(g)
	}

	// Groups missing from the list are confirmed one by one.
	var missingGroups []string
	for id := range snap.Groups {
		if _, ok := r.Groups[id]; !ok {
			missingGroups = append(missingGroups, id)
		}
	}
	slices.Sort(missingGroups)
	for i, id := range missingGroups {
		if i >= maxConfirm {
			break
		}
		g, found, err := d.getGroup(ctx, id)
		if err != nil {
			return nil, err
		}
		if found {
			r.addGroup(g)
		} else {
			r.GoneGroups = append(r.GoneGroups, id)
		}
	}
	gone := setOf(r.GoneGroups)

	// The members of every wanted group. A group missing from the list but
	// not confirmed deleted keeps its memberships as they are.
	var list []string
	names := map[string]bool{}
	for id, g := range r.Groups {
		if wanted[g.Name] {
			list = append(list, id)
			names[g.Name] = true
			r.Tracked[id] = true
		}
	}
	for id, g := range snap.Groups {
		if _, ok := r.Groups[id]; !ok && !gone[id] && wanted[g.Name] {
			names[g.Name] = true
			r.Tracked[id] = true
		}
	}
	if err := d.listMembers(ctx, r, list); err != nil {
		return nil, err
	}
	r.missingWanted = missingNames(wanted, names)

	// Users missing from the lists are confirmed one by one.
	known, err := store.DirectoryUserIDs(ctx)
	if err != nil {
		return nil, err
	}
	confirmed := 0
	for _, id := range known {
		if _, ok := r.Users[id]; ok {
			continue
		}
		if confirmed >= maxConfirm {
			break
		}
		confirmed++
		u, found, err := d.getUser(ctx, id)
		if err != nil {
			return nil, err
		}
		if found {
			r.addUser(u)
		} else {
			r.GoneUsers = append(r.GoneUsers, id)
		}
	}
	return r, nil
}

func (d *Directory) readIncremental(ctx context.Context, snap *grants.DirectoryMeta, readFrom time.Time, wanted, tracked map[string]bool) (*read, error) {
	r := d.newRead()
	// A filter (unlike the plain list) returns DEPROVISIONED users too.
	from := since(snap.UserCursor, readFrom, d.overlap)
	users, date, err := d.listUsers(ctx, &query.Params{Limit: d.pageLimit, Filter: fmt.Sprintf(`lastUpdated gt "%s"`, from)})
	if err != nil {
		return nil, err
	}
	r.readFrom = date
	for _, u := range users {
		r.addUser(u)
	}
	from = since(snap.GroupCursor, readFrom, d.overlap)
	groups, _, err := d.listGroups(ctx, &query.Params{
		Limit:  d.pageLimit,
		Filter: fmt.Sprintf(`lastUpdated gt "%s" or lastMembershipUpdated gt "%s"`, from, from),
	})
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		r.addGroup(g)
	}

	// The wanted groups as they are now: the snapshot's, updated by the delta.
	var list []string
	names := map[string]bool{}
	consider := func(id, name string) {
		if !wanted[name] {
			return
		}
		names[name] = true
		r.Tracked[id] = true
		relist := !tracked[id]
		if g, ok := r.Groups[id]; ok {
			old, inSnap := snap.Groups[id]
			relist = relist || !inSnap || !sameTime(old.LastMembershipUpdated, g.LastMembershipUpdated)
		}
		if relist {
			list = append(list, id)
		}
	}
	for id, g := range r.Groups {
		consider(id, g.Name)
	}
	for id, g := range snap.Groups {
		if _, ok := r.Groups[id]; !ok {
			consider(id, g.Name)
		}
	}
	if err := d.listMembers(ctx, r, list); err != nil {
		return nil, err
	}
	r.missingWanted = missingNames(wanted, names)
	return r, nil
}

// listMembers lists the members of the groups, a few at a time, into r.
func (d *Directory) listMembers(ctx context.Context, r *read, groupIDs []string) error {
	if len(groupIDs) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		group string
		users []*okta.User
		err   error
	}
	jobs := make(chan string)
	results := make(chan result)
	var wg sync.WaitGroup
	for range min(memberListers, len(groupIDs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				users, err := d.listGroupUsers(ctx, id)
				results <- result{id, users, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, id := range groupIDs {
			select {
			case jobs <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	var firstErr error
	for res := range results {
		if res.err != nil {
			if firstErr == nil {
				firstErr = res.err
				cancel()
			}
			continue
		}
		ids := make([]string, 0, len(res.users))
		for _, u := range res.users {
			if u == nil || u.Id == "" {
				continue
			}
			r.addUser(u)
			ids = append(ids, u.Id)
		}
		r.Members[res.group] = ids
	}
	if firstErr == nil && len(r.Members) < len(setOf(groupIDs)) {
		firstErr = errors.New("listing group members: interrupted")
	}
	return firstErr
}

func (d *Directory) listUsers(ctx context.Context, qp *query.Params) ([]*okta.User, time.Time, error) {
	doing := "listing users"
	if qp.Filter != "" {
		doing += " (" + qp.Filter + ")"
	}
	users, resp, err := d.client.User.ListUsers(ctx, qp)
	return allPages(ctx, doing, users, resp, err)
}

func (d *Directory) listGroups(ctx context.Context, qp *query.Params) ([]*okta.Group, time.Time, error) {
	doing := "listing groups"
	if qp.Filter != "" {
		doing += " (" + qp.Filter + ")"
	}
	groups, resp, err := d.client.Group.ListGroups(ctx, qp)
	return allPages(ctx, doing, groups, resp, err)
}

func (d *Directory) listGroupUsers(ctx context.Context, groupID string) ([]*okta.User, error) {
	users, resp, err := d.client.Group.ListGroupUsers(ctx, url.PathEscape(groupID), &query.Params{Limit: d.pageLimit})
	all, _, err := allPages(ctx, "listing the members of group "+groupID, users, resp, err)
	return all, err
}

// allPages follows the Link headers from a first page to the last one,
// and returns the Date of the first page (zero when absent). Any page that
// fails, or that is not a JSON list, fails the whole listing.
func allPages[T any](ctx context.Context, doing string, first []T, resp *okta.Response, err error) ([]T, time.Time, error) {
	if err != nil {
		return nil, time.Time{}, apiError(doing, resp, err)
	}
	if err := checkListPage(resp); err != nil {
		return nil, time.Time{}, fmt.Errorf("okta: %s: %w", doing, err)
	}
	date, _ := http.ParseTime(resp.Header.Get("Date"))
	all := first
	seen := map[string]bool{}
	for page := 2; resp.HasNextPage(); page++ {
		if seen[resp.NextPage] {
			return nil, time.Time{}, fmt.Errorf("okta: %s: page %d links back to %s", doing, page, resp.NextPage)
		}
		seen[resp.NextPage] = true
		// A fresh slice per page: decoding into a reused one would write
		// into the previous page's structs.
		var items []T
		resp, err = resp.Next(ctx, &items)
		if err != nil {
			return nil, time.Time{}, apiError(fmt.Sprintf("%s, page %d", doing, page), resp, err)
		}
		if err := checkListPage(resp); err != nil {
			return nil, time.Time{}, fmt.Errorf("okta: %s, page %d: %w", doing, page, err)
		}
		all = append(all, items...)
	}
	return all, date.UTC(), nil
}

// checkListPage refuses a successful answer whose body is not a JSON
// array: the SDK would take an empty body for an empty page.
func checkListPage(resp *okta.Response) error {
	if resp == nil || resp.Response == nil || resp.Body == nil {
		return errors.New("no response")
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the page: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
		return fmt.Errorf("HTTP %d answer is not a list", resp.StatusCode)
	}
	return nil
}

// userRow turns an Okta user into its snapshot row: the profile attribute
// that is the person's Tailscale login (email or login), lower-cased
// (Unicode simple case mapping) into the email column, the name "First
// Last" or else the login, times in UTC.
func userRow(u *okta.User, loginAttribute string) grants.DirectoryUser {
	profile := func(key string) string {
		if u.Profile == nil {
			return ""
		}
		s, _ := (*u.Profile)[key].(string)
		return strings.TrimSpace(s)
	}
	login := profile("login")
	name := strings.TrimSpace(profile("firstName") + " " + profile("lastName"))
	if name == "" {
		name = login
	}
	return grants.DirectoryUser{
		ID:          u.Id,
		Login:       login,
		Email:       strings.ToLower(profile(loginAttribute)),
		Name:        name,
		Status:      u.Status,
		LastUpdated: utc(u.LastUpdated),
	}
}

func groupRow(g *okta.Group) grants.DirectoryGroup {
	row := grants.DirectoryGroup{
		ID:                    g.Id,
		Name:                  groupName(g),
		LastUpdated:           utc(g.LastUpdated),
		LastMembershipUpdated: utc(g.LastMembershipUpdated),
	}
	if g.Profile != nil {
		row.Description = g.Profile.Description
	}
	return row
}

func groupName(g *okta.Group) string {
	if g == nil || g.Profile == nil {
		return ""
	}
	return g.Profile.Name
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func missingNames(wanted, found map[string]bool) []string {
	var out []string
	for name := range wanted {
		if !found[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func setOf(s []string) map[string]bool {
	out := make(map[string]bool, len(s))
	for _, v := range s {
		out[v] = true
	}
	return out
}
