package okta

// This file reads the Okta directory (users, groups, memberships of the groups
// the catalog names) through okta-sdk-golang v2 and keeps the directory
// snapshot (grants.Store) equal to it.
//
// Two rules shape it. A read that did not complete is a failure, never an
// empty answer: every page is followed, a page that fails fails the poll, and
// the database is written only after everything was read, in one transaction.
// And a quiet directory is cheap: an incremental poll asks Okta only for users
// and groups changed since the snapshot (lastUpdated, lastMembershipUpdated)
// and re-lists the members of a wanted group only when its membership changed.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/accessportal/portal/grants"
)

// Defaults of Config.
const (
	defaultTimeout   = 30 * time.Second
	defaultMaxWait   = 30 * time.Second
	defaultPageLimit = 200
	defaultOverlap   = time.Minute
	// maxConfirm bounds the users (and groups) a full poll confirms one by
	// one before removing them from the snapshot; more missing ones are kept
	// until a later full poll confirms them.
	maxConfirm = 200
	// memberListers is how many groups' members are listed at once.
	memberListers = 4
	// timeLayout is how Okta filter expressions spell a time.
	timeLayout = "2006-01-02T15:04:05.000Z"
)

// Config configures the Okta Management API client.
type Config struct {
	// OrgURL is the org's base URL, e.g. https://example.okta.com. http:// is
	// accepted for local fakes.
	OrgURL string
	// APIToken is an SSWS API token; or, preferred, an API service app:
	APIToken string
	// ClientID and PrivateKey (an RSA key, PKCS#1 or PKCS#8 PEM) are an Okta
	// API service app signing its client assertions (private_key_jwt);
	// PrivateKeyID is the key's kid, when Okta has several.
	ClientID     string
	PrivateKey   string
	PrivateKeyID string
	// LoginAttribute is the Okta profile attribute that is a person's
	// Tailscale login: "email" (default) or "login"; it is lower-cased.
	LoginAttribute string
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

// Directory reads the Okta directory through okta-sdk-golang v2 with its
// cache off (WithCache(false)) and keeps the directory snapshot tables. Its
// methods are safe for concurrent use; polls run one at a time.
type Directory struct {
	login     string // the profile attribute that is the Tailscale login
	client    *okta.Client
	transport *transport
	clock     func() time.Time
	pageLimit int64
	overlap   time.Duration

	mu sync.Mutex // serializes polls and guards state
	// state is what the last successful poll of this process left in the
	// database; nil until then.
	state *pollState
}

// pollState remembers, between polls, what the tables cannot say:
// which groups' memberships the snapshot holds (including groups listed and
// found empty), and Okta's time when the last poll started reading. It is
// trusted only while the snapshot's fingerprint is the one this process left;
// otherwise (a restart, another replica polled) the groups with membership
// rows and the newest timestamps in the snapshot are used instead.
type pollState struct {
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

// New builds the Okta client. It makes no request.
func New(cfg Config) (*Directory, error) {
	org, err := url.Parse(strings.TrimRight(cfg.OrgURL, "/"))
	if err != nil || org.Host == "" || (org.Scheme != "https" && org.Scheme != "http") {
		return nil, fmt.Errorf("okta: org URL %q is not an http(s) URL", cfg.OrgURL)
	}
	auth, err := credentials(cfg)
	if err != nil {
		return nil, err
	}
	base := http.DefaultTransport
	timeout := defaultTimeout
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
		maxWait = defaultMaxWait
	}
	t := &transport{base: base, attemptTimeout: timeout, maxWait: maxWait, now: clock}
	hc.Transport = t
	// The transport bounds each attempt; a client timeout would also cut
	// short the waits between retries.
	hc.Timeout = 0

	orgURL := org.Scheme + "://" + org.Host + strings.TrimRight(org.Path, "/")
	_, client, err := okta.NewClient(context.Background(), append(auth,
		okta.WithOrgUrl(orgURL),
		okta.WithCache(false),
		okta.WithHttpClientPtr(hc),
		okta.WithRequestTimeout(0),
		// 429s are waited out in the transport, bounded by MaxWait; the
		// SDK's own loop would retry them again on top.
		okta.WithRateLimitMaxRetries(0),
		okta.WithTestingDisableHttpsCheck(org.Scheme == "http"),
	)...)
	if err != nil {
		return nil, fmt.Errorf("okta: %w", err)
	}
	limit := cfg.PageLimit
	if limit <= 0 {
		limit = defaultPageLimit
	}
	overlap := cfg.Overlap
	if overlap <= 0 {
		overlap = defaultOverlap
	}
	login := cfg.LoginAttribute
	if login == "" {
		login = "email"
	}
	return &Directory{
		login:     login,
		client:    client,
		transport: t,
		clock:     clock,
		pageLimit: int64(limit),
		overlap:   overlap,
	}, nil
}

// Calls returns the number of HTTP requests this directory made to Okta so
// far, retries included.
func (d *Directory) Calls() int { return int(d.transport.calls.Load()) }

// RateLimited returns how many of those requests Okta answered with 429.
func (d *Directory) RateLimited() int { return int(d.transport.rateLimited.Load()) }

// User re-reads one user. found is false when Okta answers 404.
func (d *Directory) User(ctx context.Context, id string) (grants.DirectoryUser, bool, error) {
	u, found, err := d.getUser(ctx, id)
	if err != nil || !found {
		return grants.DirectoryUser{}, found, err
	}
	row := userRow(u, d.login)
	row.SyncedAt = d.clock().UTC()
	return row, true, nil
}

func (d *Directory) getUser(ctx context.Context, id string) (*okta.User, bool, error) {
	u, resp, err := d.client.User.GetUser(ctx, url.PathEscape(id))
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, apiError("reading user "+id, resp, err)
	}
	if u == nil || u.Id == "" {
		return nil, false, fmt.Errorf("reading user %s: Okta answered without a user", id)
	}
	return u, true, nil
}

func (d *Directory) getGroup(ctx context.Context, id string) (*okta.Group, bool, error) {
	g, resp, err := d.client.Group.GetGroup(ctx, url.PathEscape(id))
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, apiError("reading group "+id, resp, err)
	}
	if g == nil || g.Id == "" {
		return nil, false, fmt.Errorf("reading group %s: Okta answered without a group", id)
	}
	return g, true, nil
}

// unsupportedQuery reports whether Okta refused a query's filter or
// search as invalid (HTTP 400), as opposed to failing.
func unsupportedQuery(err error) bool {
	var oe *okta.Error
	if errors.As(err, &oe) && (oe.ErrorCode == "E0000031" || oe.ErrorCode == "E0000001") {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "HTTP 400")
}

// apiError adds what was being done and the HTTP status to an SDK error.
func apiError(doing string, resp *okta.Response, err error) error {
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
// snapshot (less Config.Overlap); members are re-listed only for wanted
// groups whose membership changed, and for wanted groups the snapshot does
// not follow yet (the catalog changed, a group was renamed). On an empty
// snapshot an incremental poll is a full one. Deletions in Okta are seen by
// full polls (and, for memberships, by the groups they leave).
//
// A read that fails midway (an error, a 5xx or 429 beyond MaxWait, a page
// that is not a list) returns an error and changes nothing in the database.
func (d *Directory) Poll(ctx context.Context, store *grants.Store, wanted []string, full bool) (PollResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()

	calls := new(atomic.Int64)
	ctx = context.WithValue(ctx, callsKey{}, calls)
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
	snap, err := store.DirectoryMeta(ctx)
	if err != nil {
		return finish(err)
	}
	if !full && (snap.Empty() || snap.UserCursor == nil || snap.GroupCursor == nil) {
		full = true
		res.Full = true
	}
	tracked := snap.HasMembers
	var readFrom time.Time
	if d.state != nil && d.state.fingerprint == snap.Fingerprint {
		tracked = d.state.tracked
		readFrom = d.state.readFrom
	}

	var r *read
	if full {
		r, err = d.readFull(ctx, store, snap, wantedSet)
	} else {
		r, err = d.readIncremental(ctx, snap, readFrom, wantedSet, tracked)
		if unsupportedQuery(err) {
			// An org (or a proxy in front of it) that refuses the filters an
			// incremental poll needs still gets a correct, if costlier, read.
			slog.Warn("okta refused an incremental query; reading everything instead", "err", err)
			full, res.Full = true, true
			r, err = d.readFull(ctx, store, snap, wantedSet)
		}
	}
	if err != nil {
		return finish(fmt.Errorf("polling Okta (full=%t), snapshot left unchanged: %w", full, err))
	}

	change, err := store.ApplyDirectoryRead(ctx, snap, r.DirectoryRead, full, d.clock().UTC())
	if err != nil {
		return finish(err)
	}
	res.UsersChanged, res.GroupsChanged = change.Users, change.Groups
	res.Changed = len(res.UsersChanged) > 0 || len(res.GroupsChanged) > 0

	fp, err := store.DirectoryFingerprint(ctx)
	if err != nil {
		d.state = nil // the next poll falls back to the membership rows
	} else {
		d.state = &pollState{fingerprint: fp, tracked: r.Tracked, readFrom: r.readFrom}
	}
	if len(r.missingWanted) > 0 {
		slog.WarnContext(ctx, "okta: wanted groups not found in the directory", "groups", r.missingWanted)
	}
	return finish(nil)
}

// since is where an incremental poll starts asking: after the newest
// timestamp the snapshot holds, or after the previous poll's start when that
// is later (a bulk change must not be re-read by every poll), less the
// overlap that absorbs the lag of Okta's eventually consistent filters.
func since(cursor *time.Time, readFrom time.Time, overlap time.Duration) string {
	t := *cursor
	if readFrom.After(t) {
		t = readFrom
	}
	return t.Add(-overlap).UTC().Format(timeLayout)
}

// GroupNamed asks Okta whether it has a group named exactly name: the
// catalog's check of a name the snapshot lacks (a group created since the
// last poll). A search on profile.name first; Okta's search index may lag
// behind a group just created, so when it finds nothing (or is refused) a
// name prefix query, read from the groups themselves, has the last word.
func (d *Directory) GroupNamed(ctx context.Context, name string) (bool, error) {
	quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
	groups, resp, err := d.client.Group.ListGroups(ctx, &query.Params{Search: `profile.name eq "` + quoted + `"`, Limit: 200})
	if err != nil && !unsupportedQuery(err) {
		return false, apiError("looking up group "+strconv.Quote(name), resp, err)
	}
	if err == nil && slices.ContainsFunc(groups, func(g *okta.Group) bool { return groupName(g) == name }) {
		return true, nil
	}
	groups, resp, err = d.client.Group.ListGroups(ctx, &query.Params{Q: name, Limit: 200})
	if err != nil {
		return false, apiError("looking up group "+strconv.Quote(name), resp, err)
	}
	return slices.ContainsFunc(groups, func(g *okta.Group) bool { return groupName(g) == name }), nil
}
