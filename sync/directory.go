package sync

// This file reads the Okta directory (users, groups, memberships of the groups
// the catalog names) through okta-sdk-golang v2 and keeps the snapshot tables
// directory_users, directory_groups and directory_memberships equal to it.
//
// Two rules shape it. A read that did not complete is a failure, never an
// empty answer: every page is followed, a page that fails fails the poll, and
// the database is written only after everything was read, in one transaction.
// And a quiet directory is cheap: an incremental poll asks Okta only for users
// and groups changed since the snapshot (lastUpdated, lastMembershipUpdated)
// and re-lists the members of a wanted group only when its membership changed.

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
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
)

// Defaults of OktaConfig.
const (
	oktaDefaultTimeout   = 30 * time.Second
	oktaDefaultMaxWait   = 30 * time.Second
	oktaDefaultPageLimit = 200
	oktaDefaultOverlap   = time.Minute
	// oktaMaxConfirm bounds the users (and groups) a full poll confirms one by
	// one before removing them from the snapshot; more missing ones are kept
	// until a later full poll confirms them.
	oktaMaxConfirm = 200
	// oktaMemberListers is how many groups' members are listed at once.
	oktaMemberListers = 4
	// oktaTimeLayout is how Okta filter expressions spell a time.
	oktaTimeLayout = "2006-01-02T15:04:05.000Z"
)

// OktaConfig configures the Okta Management API client.
type OktaConfig struct {
	// OrgURL is the org's base URL, e.g. https://example.okta.com. http:// is
	// accepted for local fakes.
	OrgURL string
	// APIToken is an SSWS API token.
	APIToken string
	// HTTPClient carries the requests; nil is a default client. Its Timeout
	// (30s when zero) bounds each attempt, not the retries of one call.
	HTTPClient *http.Client
	// MaxWait is the longest total wait on 429s and 5xx for one call before
	// it fails (default 30s).
	MaxWait time.Duration
	// Clock stamps synced_at; nil is time.Now.
	Clock func() time.Time
	// PageLimit is the page size asked of list endpoints (default 200).
	PageLimit int
	// Overlap is how far before the newest timestamp in the snapshot an
	// incremental poll starts asking, to absorb the lag of Okta's eventually
	// consistent filters (default 1 minute).
	Overlap time.Duration
}

// OktaDirectory reads the Okta directory through okta-sdk-golang v2 with its
// cache off (WithCache(false)) and keeps the directory snapshot tables. Its
// methods are safe for concurrent use; polls run one at a time.
type OktaDirectory struct {
	client    *okta.Client
	transport *oktaTransport
	clock     func() time.Time
	pageLimit int64
	overlap   time.Duration

	mu stdsync.Mutex // serializes polls and guards state
	// state is what the last successful poll of this process left in the
	// database; nil until then.
	state *directoryState
}

// directoryState remembers, between polls, what the tables cannot say:
// which groups' memberships the snapshot holds (including groups listed and
// found empty), and Okta's time when the last poll started reading. It is
// trusted only while the snapshot's fingerprint is the one this process left;
// otherwise (a restart, another replica polled) the groups with membership
// rows and the newest timestamps in the snapshot are used instead.
type directoryState struct {
	fingerprint string
	tracked     map[string]bool
	// readFrom is the Date of Okta's first answer in the last poll: every
	// change older than that (less the overlap) is in the snapshot.
	readFrom time.Time
}

// PollResult says what a poll saw and changed.
type PollResult struct {
	// Full is true when the whole directory was read (asked for, or the
	// snapshot was empty).
	Full bool
	// Calls is the number of HTTP requests made to Okta, retries included.
	Calls int
	// UsersChanged are the Okta user ids whose status, email, name or
	// membership changed, who appeared, or who vanished; sorted.
	UsersChanged []string
	// GroupsChanged are the Okta group ids whose name or membership changed,
	// which appeared, or which vanished; sorted.
	GroupsChanged []string
	// Changed is true when anything above changed.
	Changed bool
}

// NewOktaDirectory builds the Okta client. It makes no request.
func NewOktaDirectory(cfg OktaConfig) (*OktaDirectory, error) {
	org, err := url.Parse(strings.TrimRight(cfg.OrgURL, "/"))
	if err != nil || org.Host == "" || (org.Scheme != "https" && org.Scheme != "http") {
		return nil, fmt.Errorf("okta: org URL %q is not an http(s) URL", cfg.OrgURL)
	}
	if cfg.APIToken == "" {
		return nil, errors.New("okta: an API token is required")
	}
	base := http.DefaultTransport
	timeout := oktaDefaultTimeout
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		*hc = *cfg.HTTPClient
		if cfg.HTTPClient.Transport != nil {
			base = cfg.HTTPClient.Transport
		}
		if cfg.HTTPClient.Timeout > 0 {
			timeout = cfg.HTTPClient.Timeout
		}
	}
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	maxWait := cfg.MaxWait
	if maxWait <= 0 {
		maxWait = oktaDefaultMaxWait
	}
	t := &oktaTransport{base: base, attemptTimeout: timeout, maxWait: maxWait, now: clock}
	hc.Transport = t
	// The transport bounds each attempt; a client timeout would also cut
	// short the waits between retries.
	hc.Timeout = 0

	orgURL := org.Scheme + "://" + org.Host + strings.TrimRight(org.Path, "/")
	_, client, err := okta.NewClient(context.Background(),
		okta.WithOrgUrl(orgURL),
		okta.WithToken(cfg.APIToken),
		okta.WithAuthorizationMode("SSWS"),
		okta.WithCache(false),
		okta.WithHttpClientPtr(hc),
		okta.WithRequestTimeout(0),
		// 429s are waited out in the transport, bounded by MaxWait; the
		// SDK's own loop would retry them again on top.
		okta.WithRateLimitMaxRetries(0),
		okta.WithTestingDisableHttpsCheck(org.Scheme == "http"),
	)
	if err != nil {
		return nil, fmt.Errorf("okta: %w", err)
	}
	limit := cfg.PageLimit
	if limit <= 0 {
		limit = oktaDefaultPageLimit
	}
	overlap := cfg.Overlap
	if overlap <= 0 {
		overlap = oktaDefaultOverlap
	}
	return &OktaDirectory{
		client:    client,
		transport: t,
		clock:     clock,
		pageLimit: int64(limit),
		overlap:   overlap,
	}, nil
}

// Calls returns the number of HTTP requests this directory made to Okta so
// far, retries included.
func (d *OktaDirectory) Calls() int { return int(d.transport.calls.Load()) }

// RateLimited returns how many of those requests Okta answered with 429.
func (d *OktaDirectory) RateLimited() int { return int(d.transport.rateLimited.Load()) }

// User re-reads one user. found is false when Okta answers 404.
func (d *OktaDirectory) User(ctx context.Context, id string) (grants.DirectoryUser, bool, error) {
	u, found, err := d.getUser(ctx, id)
	if err != nil || !found {
		return grants.DirectoryUser{}, found, err
	}
	return directoryUserRow(u, d.clock().UTC()), true, nil
}

func (d *OktaDirectory) getUser(ctx context.Context, id string) (*okta.User, bool, error) {
	u, resp, err := d.client.User.GetUser(ctx, url.PathEscape(id))
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, oktaError("reading user "+id, resp, err)
	}
	if u == nil || u.Id == "" {
		return nil, false, fmt.Errorf("reading user %s: Okta answered without a user", id)
	}
	return u, true, nil
}

func (d *OktaDirectory) getGroup(ctx context.Context, id string) (*okta.Group, bool, error) {
	g, resp, err := d.client.Group.GetGroup(ctx, url.PathEscape(id))
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, oktaError("reading group "+id, resp, err)
	}
	if g == nil || g.Id == "" {
		return nil, false, fmt.Errorf("reading group %s: Okta answered without a group", id)
	}
	return g, true, nil
}

// oktaUnsupportedQuery reports whether Okta refused a query's filter or
// search as invalid (HTTP 400), as opposed to failing.
func oktaUnsupportedQuery(err error) bool {
	var oe *okta.Error
	if errors.As(err, &oe) && (oe.ErrorCode == "E0000031" || oe.ErrorCode == "E0000001") {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "HTTP 400")
}

// oktaError adds what was being done and the HTTP status to an SDK error.
func oktaError(doing string, resp *okta.Response, err error) error {
	if resp != nil && resp.Response != nil && resp.StatusCode >= 300 {
		return fmt.Errorf("okta: %s: HTTP %d: %w", doing, resp.StatusCode, err)
	}
	return fmt.Errorf("okta: %s: %w", doing, err)
}

// Poll reads Okta and updates the snapshot tables in one transaction.
//
// wanted are the Okta group names whose memberships matter (synced groups,
// admins, eligible, approvers, auto-approve); only their members are listed,
// and the snapshot holds memberships of those groups only.
//
// full re-reads everything: all users (DEPROVISIONED ones through a status
// filter, as Okta hides them from a plain list), all groups, the members of
// wanted groups. Users and groups missing from those lists are removed only
// after Okta answers 404 for them one by one.
//
// Otherwise the poll is incremental: users with lastUpdated, and groups with
// lastUpdated or lastMembershipUpdated, after the newest such time in the
// snapshot (less OktaConfig.Overlap); members are re-listed only for wanted
// groups whose membership changed, and for wanted groups the snapshot does
// not follow yet (the catalog changed, a group was renamed). On an empty
// snapshot an incremental poll is a full one. Deletions in Okta are seen by
// full polls (and, for memberships, by the groups they leave).
//
// A read that fails midway (an error, a 5xx or 429 beyond MaxWait, a page
// that is not a list) returns an error and changes nothing in the database.
func (d *OktaDirectory) Poll(ctx context.Context, db *database.DB, wanted []string, full bool) (PollResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()

	calls := new(atomic.Int64)
	ctx = context.WithValue(ctx, oktaCallsKey{}, calls)
	res := PollResult{Full: full}
	finish := func(err error) (PollResult, error) {
		res.Calls = int(calls.Load())
		return res, err
	}

	wantedSet := map[string]bool{}
	for _, name := range wanted {
		if name = strings.TrimSpace(name); name != "" {
			wantedSet[name] = true
		}
	}
	snap, err := loadDirectoryMeta(ctx, db.DB)
	if err != nil {
		return finish(err)
	}
	if !full && (snap.empty() || snap.userCursor == nil || snap.groupCursor == nil) {
		full = true
		res.Full = true
	}
	tracked := snap.hasMembers
	if d.state != nil && d.state.fingerprint == snap.fingerprint {
		tracked = d.state.tracked
		snap.readFrom = d.state.readFrom
	}

	var read *directoryRead
	if full {
		read, err = d.readFull(ctx, db.DB, snap, wantedSet)
	} else {
		read, err = d.readIncremental(ctx, snap, wantedSet, tracked)
		if oktaUnsupportedQuery(err) {
			// An org (or a proxy in front of it) that refuses the filters an
			// incremental poll needs still gets a correct, if costlier, read.
			slog.Warn("okta refused an incremental query; reading everything instead", "err", err)
			full, res.Full = true, true
			read, err = d.readFull(ctx, db.DB, snap, wantedSet)
		}
	}
	if err != nil {
		return finish(fmt.Errorf("polling Okta (full=%t), snapshot left unchanged: %w", full, err))
	}

	now := d.clock().UTC()
	var changes *directoryChanges
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		changes, err = computeDirectoryChanges(tx, snap, read, now)
		if err != nil {
			return err
		}
		return changes.apply(tx, full, now)
	})
	if err != nil {
		return finish(fmt.Errorf("writing the directory snapshot: %w", err))
	}
	res.UsersChanged = directorySortedKeys(changes.usersChanged)
	res.GroupsChanged = directorySortedKeys(changes.groupsChanged)
	res.Changed = len(res.UsersChanged) > 0 || len(res.GroupsChanged) > 0

	fp, err := directoryFingerprint(ctx, db.DB)
	if err != nil {
		d.state = nil // the next poll falls back to the membership rows
	} else {
		d.state = &directoryState{fingerprint: fp, tracked: read.tracked, readFrom: read.readFrom}
	}
	if len(read.missingWanted) > 0 {
		slog.WarnContext(ctx, "okta: wanted groups not found in the directory", "groups", read.missingWanted)
	}
	return finish(nil)
}

// directoryMeta is what a poll needs to know of the snapshot before reading Okta.
type directoryMeta struct {
	groups      map[string]grants.DirectoryGroup
	userCount   int64
	userCursor  *time.Time // newest users.last_updated
	groupCursor *time.Time // newest groups.last_updated / last_membership_updated
	hasMembers  map[string]bool
	fingerprint string
	// readFrom is Okta's time when the previous poll started, when known.
	readFrom time.Time
}

// since is where an incremental poll starts asking: after the newest
// timestamp the snapshot holds, or after the previous poll's start when that
// is later (a bulk change must not be re-read by every poll), less the
// overlap that absorbs the lag of Okta's eventually consistent filters.
func (m *directoryMeta) since(cursor *time.Time, overlap time.Duration) string {
	t := *cursor
	if m.readFrom.After(t) {
		t = m.readFrom
	}
	return t.Add(-overlap).UTC().Format(oktaTimeLayout)
}

func (m *directoryMeta) empty() bool { return m.userCount == 0 && len(m.groups) == 0 }

func loadDirectoryMeta(ctx context.Context, db *gorm.DB) (*directoryMeta, error) {
	db = db.WithContext(ctx)
	m := &directoryMeta{groups: map[string]grants.DirectoryGroup{}, hasMembers: map[string]bool{}}
	var groups []grants.DirectoryGroup
	if err := db.Find(&groups).Error; err != nil {
		return nil, fmt.Errorf("reading directory groups: %w", err)
	}
	for _, g := range groups {
		m.groups[g.ID] = g
		m.groupCursor = directoryLater(m.groupCursor, g.LastUpdated)
		m.groupCursor = directoryLater(m.groupCursor, g.LastMembershipUpdated)
	}
	if err := db.Model(&grants.DirectoryUser{}).Count(&m.userCount).Error; err != nil {
		return nil, fmt.Errorf("counting directory users: %w", err)
	}
	var newest []grants.DirectoryUser
	err := db.Select("id", "last_updated").Where("last_updated IS NOT NULL").
		Order("last_updated DESC").Limit(1).Find(&newest).Error
	if err != nil {
		return nil, fmt.Errorf("reading the newest directory user: %w", err)
	}
	if len(newest) == 1 {
		m.userCursor = newest[0].LastUpdated
	}
	var ids []string
	if err := db.Model(&grants.DirectoryMembership{}).Distinct().Pluck("group_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("reading directory memberships: %w", err)
	}
	for _, id := range ids {
		m.hasMembers[id] = true
	}
	m.fingerprint, err = directoryFingerprint(ctx, db)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// directoryFingerprint changes whenever a poll writes the snapshot: every
// row a poll writes gets a new synced_at.
func directoryFingerprint(ctx context.Context, db *gorm.DB) (string, error) {
	var b strings.Builder
	for _, q := range []string{
		"SELECT COUNT(*), MAX(synced_at) FROM directory_users",
		"SELECT COUNT(*), MAX(synced_at) FROM directory_groups",
		"SELECT COUNT(*), MAX(group_id) FROM directory_memberships",
	} {
		var n int64
		var s *string
		if err := db.WithContext(ctx).Raw(q).Row().Scan(&n, &s); err != nil {
			return "", fmt.Errorf("fingerprinting the directory snapshot: %w", err)
		}
		fmt.Fprintf(&b, "%d/", n)
		if s != nil {
			b.WriteString(*s)
		}
		b.WriteString(";")
	}
	return b.String(), nil
}

// directoryRead is what a poll read from Okta.
type directoryRead struct {
	// users read, by id: every user (full) or the changed ones, plus the
	// members of the groups listed.
	users map[string]*okta.User
	// groups read, by id: every group (full) or the changed ones.
	groups map[string]*okta.Group
	// members of the groups whose members were listed, by group id.
	members map[string][]string
	// goneUsers and goneGroups were confirmed deleted (404), full polls only.
	goneUsers  []string
	goneGroups []string
	// tracked are the groups whose memberships the snapshot holds after
	// this poll: the wanted ones.
	tracked map[string]bool
	// readFrom is the Date of Okta's first answer.
	readFrom time.Time
	// missingWanted are wanted names no group has.
	missingWanted []string
}

func newDirectoryRead() *directoryRead {
	return &directoryRead{
		users:   map[string]*okta.User{},
		groups:  map[string]*okta.Group{},
		members: map[string][]string{},
		tracked: map[string]bool{},
	}
}

// addUser keeps the newest copy of a user read more than once.
func (r *directoryRead) addUser(u *okta.User) {
	if u == nil || u.Id == "" {
		return
	}
	if old, ok := r.users[u.Id]; ok && old.LastUpdated != nil && u.LastUpdated != nil && old.LastUpdated.After(*u.LastUpdated) {
		return
	}
	r.users[u.Id] = u
}

func (d *OktaDirectory) readFull(ctx context.Context, db *gorm.DB, snap *directoryMeta, wanted map[string]bool) (*directoryRead, error) {
	r := newDirectoryRead()
	// Okta's plain list hides DEPROVISIONED users; a status filter returns them.
	for i, qp := range []*query.Params{
		{Limit: d.pageLimit},
		{Limit: d.pageLimit, Filter: `status eq "DEPROVISIONED"`},
	} {
		users, date, err := d.listUsers(ctx, qp)
		if i == 1 && oktaUnsupportedQuery(err) {
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
		r.groups[g.Id] = g
	}

	// Groups missing from the list are confirmed one by one.
	var missingGroups []string
	for id := range snap.groups {
		if r.groups[id] == nil {
			missingGroups = append(missingGroups, id)
		}
	}
	slices.Sort(missingGroups)
	for i, id := range missingGroups {
		if i >= oktaMaxConfirm {
			break
		}
		g, found, err := d.getGroup(ctx, id)
		if err != nil {
			return nil, err
		}
		if found {
			r.groups[id] = g
		} else {
			r.goneGroups = append(r.goneGroups, id)
		}
	}
	gone := directorySet(r.goneGroups)

	// The members of every wanted group. A group missing from the list but
	// not confirmed deleted keeps its memberships as they are.
	var list []string
	names := map[string]bool{}
	for id, g := range r.groups {
		if name := oktaGroupName(g); wanted[name] {
			list = append(list, id)
			names[name] = true
			r.tracked[id] = true
		}
	}
	for id, g := range snap.groups {
		if r.groups[id] == nil && !gone[id] && wanted[g.Name] {
			names[g.Name] = true
			r.tracked[id] = true
		}
	}
	if err := d.listMembers(ctx, r, list); err != nil {
		return nil, err
	}
	r.missingWanted = directoryMissingNames(wanted, names)

	// Users missing from the lists are confirmed one by one.
	var known []string
	if err := db.WithContext(ctx).Model(&grants.DirectoryUser{}).Order("id").Pluck("id", &known).Error; err != nil {
		return nil, fmt.Errorf("reading directory users: %w", err)
	}
	confirmed := 0
	for _, id := range known {
		if r.users[id] != nil {
			continue
		}
		if confirmed >= oktaMaxConfirm {
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
			r.goneUsers = append(r.goneUsers, id)
		}
	}
	return r, nil
}

func (d *OktaDirectory) readIncremental(ctx context.Context, snap *directoryMeta, wanted, tracked map[string]bool) (*directoryRead, error) {
	r := newDirectoryRead()
	// A filter (unlike the plain list) returns DEPROVISIONED users too.
	since := snap.since(snap.userCursor, d.overlap)
	users, date, err := d.listUsers(ctx, &query.Params{Limit: d.pageLimit, Filter: fmt.Sprintf(`lastUpdated gt "%s"`, since)})
	if err != nil {
		return nil, err
	}
	r.readFrom = date
	for _, u := range users {
		r.addUser(u)
	}
	since = snap.since(snap.groupCursor, d.overlap)
	groups, _, err := d.listGroups(ctx, &query.Params{
		Limit:  d.pageLimit,
		Filter: fmt.Sprintf(`lastUpdated gt "%s" or lastMembershipUpdated gt "%s"`, since, since),
	})
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		r.groups[g.Id] = g
	}

	// The wanted groups as they are now: the snapshot's, updated by the delta.
	var list []string
	names := map[string]bool{}
	consider := func(id, name string) {
		if !wanted[name] {
			return
		}
		names[name] = true
		r.tracked[id] = true
		relist := !tracked[id]
		if g := r.groups[id]; g != nil {
			old, inSnap := snap.groups[id]
			relist = relist || !inSnap || !directorySameTime(old.LastMembershipUpdated, g.LastMembershipUpdated)
		}
		if relist {
			list = append(list, id)
		}
	}
	for id, g := range r.groups {
		consider(id, oktaGroupName(g))
	}
	for id, g := range snap.groups {
		if r.groups[id] == nil {
			consider(id, g.Name)
		}
	}
	if err := d.listMembers(ctx, r, list); err != nil {
		return nil, err
	}
	r.missingWanted = directoryMissingNames(wanted, names)
	return r, nil
}

// listMembers lists the members of the groups, a few at a time, into r.
func (d *OktaDirectory) listMembers(ctx context.Context, r *directoryRead, groupIDs []string) error {
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
	var wg stdsync.WaitGroup
	for range min(oktaMemberListers, len(groupIDs)) {
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
		r.members[res.group] = ids
	}
	if firstErr == nil && len(r.members) < len(directorySet(groupIDs)) {
		firstErr = errors.New("listing group members: interrupted")
	}
	return firstErr
}

func (d *OktaDirectory) listUsers(ctx context.Context, qp *query.Params) ([]*okta.User, time.Time, error) {
	doing := "listing users"
	if qp.Filter != "" {
		doing += " (" + qp.Filter + ")"
	}
	users, resp, err := d.client.User.ListUsers(ctx, qp)
	return oktaAllPages(ctx, doing, users, resp, err)
}

func (d *OktaDirectory) listGroups(ctx context.Context, qp *query.Params) ([]*okta.Group, time.Time, error) {
	doing := "listing groups"
	if qp.Filter != "" {
		doing += " (" + qp.Filter + ")"
	}
	groups, resp, err := d.client.Group.ListGroups(ctx, qp)
	return oktaAllPages(ctx, doing, groups, resp, err)
}

func (d *OktaDirectory) listGroupUsers(ctx context.Context, groupID string) ([]*okta.User, error) {
	users, resp, err := d.client.Group.ListGroupUsers(ctx, url.PathEscape(groupID), &query.Params{Limit: d.pageLimit})
	all, _, err := oktaAllPages(ctx, "listing the members of group "+groupID, users, resp, err)
	return all, err
}

// oktaAllPages follows the Link headers from a first page to the last one,
// and returns the Date of the first page (zero when absent). Any page that
// fails, or that is not a JSON list, fails the whole listing.
func oktaAllPages[T any](ctx context.Context, doing string, first []T, resp *okta.Response, err error) ([]T, time.Time, error) {
	if err != nil {
		return nil, time.Time{}, oktaError(doing, resp, err)
	}
	if err := oktaCheckListPage(resp); err != nil {
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
			return nil, time.Time{}, oktaError(fmt.Sprintf("%s, page %d", doing, page), resp, err)
		}
		if err := oktaCheckListPage(resp); err != nil {
			return nil, time.Time{}, fmt.Errorf("okta: %s, page %d: %w", doing, page, err)
		}
		all = append(all, items...)
	}
	return all, date.UTC(), nil
}

// oktaCheckListPage refuses a successful answer whose body is not a JSON
// array: the SDK would take an empty body for an empty page.
func oktaCheckListPage(resp *okta.Response) error {
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

// directoryChanges is the difference between the snapshot and a read.
type directoryChanges struct {
	upsertUsers   []grants.DirectoryUser
	upsertGroups  []grants.DirectoryGroup
	addMembers    []grants.DirectoryMembership
	removeMembers map[string][]string // group id -> user ids
	dropGroups    []string            // groups whose memberships are no longer followed
	goneUsers     []string
	goneGroups    []string
	usersChanged  map[string]bool
	groupsChanged map[string]bool
}

func computeDirectoryChanges(tx *gorm.DB, snap *directoryMeta, read *directoryRead, now time.Time) (*directoryChanges, error) {
	c := &directoryChanges{
		removeMembers: map[string][]string{},
		usersChanged:  map[string]bool{},
		groupsChanged: map[string]bool{},
	}

	// Users.
	ids := make([]string, 0, len(read.users))
	for id := range read.users {
		ids = append(ids, id)
	}
	stored, err := loadDirectoryUsers(tx, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range directorySortedKeys(read.users) {
		row := directoryUserRow(read.users[id], now)
		old, ok := stored[id]
		switch {
		case !ok:
			c.usersChanged[id] = true
		case old.Status != row.Status || old.Email != row.Email || old.Name != row.Name:
			c.usersChanged[id] = true
		case old.Login == row.Login && directorySameTime(old.LastUpdated, row.LastUpdated):
			continue // nothing to write
		}
		c.upsertUsers = append(c.upsertUsers, row)
	}
	c.goneUsers = read.goneUsers
	for _, id := range c.goneUsers {
		c.usersChanged[id] = true
	}

	// Groups.
	for _, id := range directorySortedKeys(read.groups) {
		row := directoryGroupRow(read.groups[id], now)
		old, ok := snap.groups[id]
		switch {
		case !ok, old.Name != row.Name:
			c.groupsChanged[id] = true
		case old.Description == row.Description && directorySameTime(old.LastUpdated, row.LastUpdated) &&
			directorySameTime(old.LastMembershipUpdated, row.LastMembershipUpdated):
			continue
		}
		c.upsertGroups = append(c.upsertGroups, row)
	}
	c.goneGroups = read.goneGroups
	for _, id := range c.goneGroups {
		c.groupsChanged[id] = true
	}

	// Memberships: the listed groups are replaced, the groups no longer
	// wanted are dropped, and the gone users' and groups' rows go by cascade.
	var touched []string
	for id := range read.members {
		touched = append(touched, id)
	}
	gone := directorySet(c.goneGroups)
	for id := range snap.hasMembers {
		if !read.tracked[id] && !gone[id] {
			c.dropGroups = append(c.dropGroups, id)
			touched = append(touched, id)
		}
	}
	touched = append(touched, c.goneGroups...)
	slices.Sort(c.dropGroups)
	before, err := loadDirectoryMembers(tx, touched, c.goneUsers)
	if err != nil {
		return nil, err
	}
	for _, gid := range directorySortedKeys(read.members) {
		have := directorySet(before[gid])
		want := directorySet(read.members[gid])
		for _, uid := range directorySortedKeys(want) {
			if !have[uid] {
				c.addMembers = append(c.addMembers, grants.DirectoryMembership{GroupID: gid, UserID: uid})
				c.usersChanged[uid] = true
				c.groupsChanged[gid] = true
			}
		}
		for _, uid := range directorySortedKeys(have) {
			if !want[uid] {
				c.removeMembers[gid] = append(c.removeMembers[gid], uid)
				c.usersChanged[uid] = true
				c.groupsChanged[gid] = true
			}
		}
	}
	goneUsers := directorySet(c.goneUsers)
	for gid, uids := range before {
		if read.members[gid] != nil {
			continue
		}
		// Dropped or deleted groups, and gone users' other memberships.
		for _, uid := range uids {
			if gone[gid] || slices.Contains(c.dropGroups, gid) || goneUsers[uid] {
				c.usersChanged[uid] = true
				c.groupsChanged[gid] = true
			}
		}
	}
	// A group whose row changes because members were listed is rewritten
	// even when nothing else changed, so that its synced_at moves.
	for _, gid := range directorySortedKeys(read.members) {
		if c.groupsChanged[gid] && !slices.ContainsFunc(c.upsertGroups, func(g grants.DirectoryGroup) bool { return g.ID == gid }) {
			if old, ok := snap.groups[gid]; ok {
				old.SyncedAt = now
				c.upsertGroups = append(c.upsertGroups, old)
			}
		}
	}
	return c, nil
}

func (c *directoryChanges) apply(tx *gorm.DB, full bool, now time.Time) error {
	if len(c.upsertUsers) > 0 {
		err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, UpdateAll: true}).
			CreateInBatches(c.upsertUsers, 500).Error
		if err != nil {
			return fmt.Errorf("saving directory users: %w", err)
		}
	}
	if len(c.upsertGroups) > 0 {
		err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, UpdateAll: true}).
			CreateInBatches(c.upsertGroups, 500).Error
		if err != nil {
			return fmt.Errorf("saving directory groups: %w", err)
		}
	}
	for _, gid := range directorySortedKeys(c.removeMembers) {
		for _, chunk := range directoryChunks(c.removeMembers[gid], 500) {
			err := tx.Where("group_id = ? AND user_id IN ?", gid, chunk).Delete(&grants.DirectoryMembership{}).Error
			if err != nil {
				return fmt.Errorf("removing members of group %s: %w", gid, err)
			}
		}
	}
	for _, chunk := range directoryChunks(c.dropGroups, 500) {
		if err := tx.Where("group_id IN ?", chunk).Delete(&grants.DirectoryMembership{}).Error; err != nil {
			return fmt.Errorf("dropping memberships of groups no longer wanted: %w", err)
		}
	}
	if len(c.addMembers) > 0 {
		err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(c.addMembers, 1000).Error
		if err != nil {
			return fmt.Errorf("saving directory memberships: %w", err)
		}
	}
	// Deleting a user or group deletes its memberships (ON DELETE CASCADE);
	// they are deleted explicitly too, as the cascade needs SQLite's
	// foreign_keys pragma.
	for _, chunk := range directoryChunks(c.goneGroups, 500) {
		if err := tx.Where("group_id IN ?", chunk).Delete(&grants.DirectoryMembership{}).Error; err != nil {
			return fmt.Errorf("removing memberships of deleted groups: %w", err)
		}
		if err := tx.Where("id IN ?", chunk).Delete(&grants.DirectoryGroup{}).Error; err != nil {
			return fmt.Errorf("removing deleted groups: %w", err)
		}
	}
	for _, chunk := range directoryChunks(c.goneUsers, 500) {
		if err := tx.Where("user_id IN ?", chunk).Delete(&grants.DirectoryMembership{}).Error; err != nil {
			return fmt.Errorf("removing memberships of deleted users: %w", err)
		}
		if err := tx.Where("id IN ?", chunk).Delete(&grants.DirectoryUser{}).Error; err != nil {
			return fmt.Errorf("removing deleted users: %w", err)
		}
	}
	if full {
		// A full poll confirmed every row.
		all := tx.Session(&gorm.Session{AllowGlobalUpdate: true})
		if err := all.Model(&grants.DirectoryUser{}).Update("synced_at", now).Error; err != nil {
			return fmt.Errorf("stamping directory users: %w", err)
		}
		if err := all.Model(&grants.DirectoryGroup{}).Update("synced_at", now).Error; err != nil {
			return fmt.Errorf("stamping directory groups: %w", err)
		}
	}
	return nil
}

func loadDirectoryUsers(tx *gorm.DB, ids []string) (map[string]grants.DirectoryUser, error) {
	out := make(map[string]grants.DirectoryUser, len(ids))
	for _, chunk := range directoryChunks(ids, 500) {
		var rows []grants.DirectoryUser
		if err := tx.Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("reading directory users: %w", err)
		}
		for _, u := range rows {
			out[u.ID] = u
		}
	}
	return out, nil
}

// loadDirectoryMembers returns the member ids of the groups and the
// memberships of the users, by group id.
func loadDirectoryMembers(tx *gorm.DB, groupIDs, userIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	seen := map[grants.DirectoryMembership]bool{}
	add := func(rows []grants.DirectoryMembership) {
		for _, m := range rows {
			if !seen[m] {
				seen[m] = true
				out[m.GroupID] = append(out[m.GroupID], m.UserID)
			}
		}
	}
	for _, chunk := range directoryChunks(groupIDs, 500) {
		var rows []grants.DirectoryMembership
		if err := tx.Where("group_id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("reading directory memberships: %w", err)
		}
		add(rows)
	}
	for _, chunk := range directoryChunks(userIDs, 500) {
		var rows []grants.DirectoryMembership
		if err := tx.Where("user_id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("reading directory memberships: %w", err)
		}
		add(rows)
	}
	return out, nil
}

// directoryUserRow turns an Okta user into its snapshot row: the email
// lower-cased (it is the person's Tailscale login), the name "First Last"
// or else the login, times in UTC.
func directoryUserRow(u *okta.User, now time.Time) grants.DirectoryUser {
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
		Email:       strings.ToLower(profile("email")),
		Name:        name,
		Status:      u.Status,
		LastUpdated: directoryUTC(u.LastUpdated),
		SyncedAt:    now,
	}
}

func directoryGroupRow(g *okta.Group, now time.Time) grants.DirectoryGroup {
	row := grants.DirectoryGroup{
		ID:                    g.Id,
		Name:                  oktaGroupName(g),
		LastUpdated:           directoryUTC(g.LastUpdated),
		LastMembershipUpdated: directoryUTC(g.LastMembershipUpdated),
		SyncedAt:              now,
	}
	if g.Profile != nil {
		row.Description = g.Profile.Description
	}
	return row
}

func oktaGroupName(g *okta.Group) string {
	if g == nil || g.Profile == nil {
		return ""
	}
	return g.Profile.Name
}

func directoryUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func directoryLater(a, b *time.Time) *time.Time {
	if b == nil || (a != nil && !b.After(*a)) {
		return a
	}
	return b
}

func directorySameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func directoryMissingNames(wanted, found map[string]bool) []string {
	var out []string
	for name := range wanted {
		if !found[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func directorySortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func directorySet(s []string) map[string]bool {
	out := make(map[string]bool, len(s))
	for _, v := range s {
		out[v] = true
	}
	return out
}

func directoryChunks(s []string, n int) [][]string {
	var out [][]string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// oktaCallsKey carries a poll's call counter in the request context.
type oktaCallsKey struct{}

// oktaTransport counts every request to Okta, bounds each attempt, waits
// out 429s until X-Rate-Limit-Reset and retries 5xx and network errors with
// exponential backoff, as long as the total wait for one call stays within
// maxWait. Beyond that a 429 or network error becomes an error, and a 5xx is
// handed to the SDK, which reports it.
type oktaTransport struct {
	base           http.RoundTripper
	attemptTimeout time.Duration
	maxWait        time.Duration
	now            func() time.Time
	calls          atomic.Int64
	rateLimited    atomic.Int64 // 429 answers
}

// oktaRetryError is the transport's final error. It deliberately does not
// wrap the cause: the SDK retries io.EOF forever.
type oktaRetryError struct{ msg string }

func (e *oktaRetryError) Error() string { return e.msg }

func (t *oktaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	retryable := req.Method == http.MethodGet || req.Method == http.MethodHead
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		retryable = false
	}
	counter, _ := req.Context().Value(oktaCallsKey{}).(*atomic.Int64)
	var waited time.Duration
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		areq := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			areq = req.Clone(req.Context())
			areq.Body = body
		}
		t.calls.Add(1)
		if counter != nil {
			counter.Add(1)
		}
		ctx, cancel := context.WithTimeout(req.Context(), t.attemptTimeout)
		resp, err := t.base.RoundTrip(areq.WithContext(ctx))

		var wait time.Duration
		var why string
		usedBackoff := true
		switch {
		case err != nil:
			cancel()
			if req.Context().Err() != nil || !retryable {
				return nil, err
			}
			wait, why = backoff, err.Error()
		case resp.StatusCode == http.StatusTooManyRequests:
			t.rateLimited.Add(1)
			var ok bool
			if wait, ok = oktaRateLimitWait(resp.Header, t.now()); ok {
				usedBackoff = false
			} else {
				wait = backoff
			}
			why = "rate limited (429)"
			if !retryable || waited+wait > t.maxWait {
				oktaDrainClose(resp.Body)
				cancel()
				return nil, &oktaRetryError{fmt.Sprintf("okta: rate limited (429) after %d attempts; the limit resets in %s, beyond the %s this call may wait",
					attempt, wait.Round(time.Millisecond), t.maxWait)}
			}
		case resp.StatusCode >= 500 && retryable && resp.StatusCode != http.StatusNotImplemented:
			wait, why = backoff, resp.Status
			if waited+wait > t.maxWait {
				resp.Body = &oktaCancelOnClose{ReadCloser: resp.Body, cancel: cancel}
				return resp, nil // the SDK turns it into an error
			}
		default:
			resp.Body = &oktaCancelOnClose{ReadCloser: resp.Body, cancel: cancel}
			return resp, nil
		}
		if resp != nil {
			oktaDrainClose(resp.Body)
		}
		cancel()
		if waited+wait > t.maxWait {
			return nil, &oktaRetryError{fmt.Sprintf("okta: %s %s: giving up after %d attempts: %s", req.Method, req.URL.Path, attempt, why)}
		}
		slog.InfoContext(req.Context(), "okta: retrying", "path", req.URL.Path, "attempt", attempt, "wait", wait, "reason", why)
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		case <-timer.C:
		}
		waited += wait
		if usedBackoff {
			backoff = min(backoff*2, 8*time.Second)
		}
	}
}

// oktaRateLimitWait is how long to wait after a 429: until
// X-Rate-Limit-Reset (epoch seconds), measured against the answer's Date
// header so that clock skew does not matter.
func oktaRateLimitWait(h http.Header, now time.Time) (time.Duration, bool) {
	reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Rate-Limit-Reset")), 10, 64)
	if err != nil {
		return 0, false
	}
	date := now
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		date = d
	}
	// Date is truncated to the second, so this is never too short; the
	// margin absorbs the time the answer took to arrive.
	return max(time.Unix(reset, 0).Sub(date), 0) + 50*time.Millisecond, true
}

func oktaDrainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// oktaCancelOnClose ends an attempt's context when its body is closed.
type oktaCancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *oktaCancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
