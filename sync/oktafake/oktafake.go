// Package oktafake is a faithful fake of an Okta org served over real HTTP:
// the subset of the Management API that okta-sdk-golang v2 uses to read users
// and groups and change their lifecycle (SSWS token or a service app's
// scoped OAuth access token, Link pagination, filter/search/q, rate-limit
// headers and 429s, Okta's JSON error bodies), the System Log
// (GET /api/v1/logs with polling and bounded requests), the org
// authorization server (authorization code flow with PKCE and a user picker
// instead of a password; client credentials with private_key_jwt for API
// service apps), event hook delivery (batched, out of order, Okta's
// timeout and retry rules), and a small HTML admin page for demos.
//
// A Server is an http.Handler. Serve it with httptest.NewServer or a real
// listener and tell it its base URL with SetIssuer, or use Start, which does
// both on a loopback port. Tests and the demo change the org's state with the
// exported methods (AddUser, Lifecycle, SetUserStatus, AddMember, ...);
// every change stamps lastUpdated / statusChanged / lastMembershipUpdated
// with Options.Clock like Okta does and is committed to the System Log.
package oktafake

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// User statuses Okta reports in a user's "status" field.
const (
	StatusStaged          = "STAGED"
	StatusProvisioned     = "PROVISIONED"
	StatusActive          = "ACTIVE"
	StatusRecovery        = "RECOVERY"
	StatusLockedOut       = "LOCKED_OUT"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
	StatusSuspended       = "SUSPENDED"
	StatusDeprovisioned   = "DEPROVISIONED"
)

var validStatuses = []string{
	StatusStaged, StatusProvisioned, StatusActive, StatusRecovery,
	StatusLockedOut, StatusPasswordExpired, StatusSuspended, StatusDeprovisioned,
}

// DefaultPageLimit is the page size Okta uses for users when no limit is given.
const DefaultPageLimit = 200

// Options configures a Server.
type Options struct {
	// APIToken is the SSWS token the Management API accepts. Required.
	APIToken string
	// Clients are the OIDC applications allowed to sign users in.
	Clients []Client
	// PageLimit is the largest page any list endpoint returns, and the page
	// size when the caller gives no limit. Zero means 200, Okta's default for
	// users. Set it small in tests to exercise pagination.
	PageLimit int
	// Clock returns the current time; zero means time.Now. It drives every
	// timestamp, rate-limit windows, the Date header, and token expiry.
	Clock func() time.Time
	// RateLimitPerMinute overrides Okta's per-endpoint limits (600/min for
	// listing users, 500/min for listing groups, ...) with one limit for every
	// endpoint. Negative disables enforcement (headers are still sent).
	RateLimitPerMinute int
	// SigningKey signs ID and access tokens. Nil generates a 2048-bit key.
	SigningKey *rsa.PrivateKey
	// Hooks configures event hook delivery: batching, ordering, timeout.
	Hooks HookDelivery
	// ServiceApps are the API service apps allowed to get access tokens
	// for the Management API (see AddServiceApp).
	ServiceApps []ServiceApp
	// Addr is where Start listens ("127.0.0.1:9001"); empty means
	// 127.0.0.1 at a free port.
	Addr string
}

// Client is an OIDC application registered in the org.
type Client struct {
	ID     string
	Secret string // empty: a public client (token_endpoint_auth_method none)
	// RedirectURIs are the exact sign-in redirect URIs allowed.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the URIs /oauth2/v1/logout may send users to.
	PostLogoutRedirectURIs []string
}

// User is a snapshot of an Okta user. In AddUser only Login (or Email) is
// required; an empty Status means ACTIVE.
type User struct {
	ID        string
	Login     string
	Email     string
	FirstName string
	LastName  string
	Status    string
	// Title is the default profile property "title" (Okta Management API,
	// UserProfile: the default profile follows the SCIM Core Schema,
	// RFC 7643, whose "title" is the user's title); the user picker shows
	// it.
	Title string
	// CreatedWithPassword, for a STAGED user in AddUser, says it was created
	// with a password: activation then makes it ACTIVE, not PROVISIONED.
	// Users in other statuses than STAGED and PROVISIONED always have one.
	CreatedWithPassword bool

	// Read-only in AddUser: set by the server.
	Created         time.Time
	Activated       time.Time // zero: null (never activated)
	StatusChanged   time.Time
	LastLogin       time.Time // zero: null (never signed in)
	LastUpdated     time.Time
	PasswordChanged time.Time
	// Groups are the IDs of the groups the user is a member of, in creation order.
	Groups []string
}

// DisplayName is "First Last", as Okta shows it in events and pages.
func (u User) DisplayName() string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// Group is a snapshot of an Okta group (type OKTA_GROUP).
type Group struct {
	ID                    string
	Name                  string
	Description           string
	Type                  string
	Created               time.Time
	LastUpdated           time.Time
	LastMembershipUpdated time.Time
	// Members are the IDs of the group's members (all statuses), in creation order.
	Members []string
}

// ErrNotFound is returned (wrapped) by state methods given an unknown user or group.
var ErrNotFound = errors.New("not found")

type user struct {
	seq             int64
	id              string
	login           string
	email           string
	firstName       string
	lastName        string
	title           string
	status          string
	created         time.Time
	activated       time.Time
	statusChanged   time.Time
	lastLogin       time.Time
	lastUpdated     time.Time
	passwordChanged time.Time
	groups          map[string]bool
}

type group struct {
	seq                   int64
	id                    string
	name                  string
	description           string
	created               time.Time
	lastUpdated           time.Time
	lastMembershipUpdated time.Time
	members               map[string]bool
}

// Server is a fake Okta org. It is safe for concurrent use.
type Server struct {
	opts      Options
	clock     func() time.Time
	pageLimit int
	key       *rsa.PrivateKey
	kid       string
	orgID     string
	typeID    string
	api       *http.ServeMux
	web       *http.ServeMux

	mu       sync.Mutex
	issuer   string
	nextSeq  int64
	seqs     map[string]int64 // every id ever issued, so cursors outlive deletions
	users    map[string]*user
	groups   map[string]*group
	clients  map[string]Client
	faults   []int // queued injected statuses for API requests
	calls    map[string]int
	windows  map[string]*rateWindow
	codes    map[string]*authCode
	tokens   map[string]*accessToken
	hooks    []*eventHook
	queue    []queuedEvent // events waiting for hook delivery
	held     bool          // HoldEventHooks: start no delivery
	wake     *sync.Cond    // signals queue, held and closed changes (with mu)
	rng      *mrand.Rand   // shuffles deliveries (seeded)
	attempts []HookAttempt
	pending  int // events queued or being delivered
	closed   bool
	log      []logEntry // the System Log, in commit order
	logSeq   int64
	apps     map[string]*serviceApp
	jtis     map[string]time.Time // client assertion jti -> its exp
	// workerStarted is set once the delivery goroutine runs.
	workerStarted bool
	workerWG      sync.WaitGroup
	hookHTTP      *http.Client
}

// New returns a fake org with no users or groups. It panics when
// opts.APIToken is empty.
func New(opts Options) *Server {
	if opts.APIToken == "" {
		panic("oktafake: Options.APIToken is required")
	}
	s := &Server{
		opts:      opts,
		clock:     opts.Clock,
		pageLimit: opts.PageLimit,
		key:       opts.SigningKey,
		seqs:      map[string]int64{},
		users:     map[string]*user{},
		groups:    map[string]*group{},
		clients:   map[string]Client{},
		calls:     map[string]int{},
		windows:   map[string]*rateWindow{},
		codes:     map[string]*authCode{},
		tokens:    map[string]*accessToken{},
		apps:      map[string]*serviceApp{},
		jtis:      map[string]time.Time{},
		rng:       newHookRand(opts.Hooks.Seed),
		hookHTTP:  &http.Client{CheckRedirect: noRedirects},
	}
	s.wake = sync.NewCond(&s.mu)
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.pageLimit <= 0 {
		s.pageLimit = DefaultPageLimit
	}
	if s.key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(fmt.Sprintf("oktafake: generating signing key: %v", err))
		}
		s.key = k
	}
	s.kid = keyID(&s.key.PublicKey)
	s.orgID = "00o" + randomID(17)
	s.typeID = "oty" + randomID(17)
	for _, c := range opts.Clients {
		s.clients[c.ID] = c
	}
	for _, app := range opts.ServiceApps {
		if err := s.AddServiceApp(app); err != nil {
			panic("oktafake: " + err.Error())
		}
	}
	s.api = s.apiRoutes()
	s.web = s.webRoutes()
	return s
}

// Start serves a new fake org on 127.0.0.1 at a free port. It returns the
// server, its base URL (also its OIDC issuer), and a function that stops it.
func Start(opts Options) (*Server, string, func(), error) {
	if opts.APIToken == "" {
		return nil, "", nil, errors.New("oktafake: Options.APIToken is required")
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", nil, fmt.Errorf("listening for fake Okta: %w", err)
	}
	s := New(opts)
	url := "http://" + ln.Addr().String()
	s.SetIssuer(url)
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	stop := func() {
		_ = hs.Close()
		s.Close()
	}
	return s, url, stop, nil
}

// SetIssuer tells the server its public base URL (no trailing slash), used
// as the OIDC issuer and in absolute Link and _links URLs. Until it is set
// the server uses "http://" + the request's Host.
func (s *Server) SetIssuer(baseURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issuer = strings.TrimRight(baseURL, "/")
}

// Issuer returns the base URL set with SetIssuer.
func (s *Server) Issuer() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issuer
}

// APIToken returns the SSWS token the Management API accepts.
func (s *Server) APIToken() string { return s.opts.APIToken }

// AddClient registers (or replaces) an OIDC application.
func (s *Server) AddClient(c Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = c
}

// Close stops event hook delivery (events still queued are dropped). The
// caller stops the HTTP server.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.pending -= len(s.queue)
	s.queue = nil
	s.wake.Broadcast()
	s.mu.Unlock()
	s.workerWG.Wait()
}

// now returns the clock's time truncated to milliseconds, the precision
// Okta reports, so a timestamp read back from the API filters exactly.
func (s *Server) now() time.Time {
	return s.clock().UTC().Truncate(time.Millisecond)
}

func (s *Server) newSeqLocked(id string) int64 {
	s.nextSeq++
	s.seqs[id] = s.nextSeq
	return s.nextSeq
}

// AddUser creates a user and returns its id. Okta ids look like
// "00u" + 17 characters; one is generated when u.ID is empty. Login defaults
// to Email and Email to Login; Status defaults to ACTIVE. It panics on an
// empty login, an unknown status, or a login or id already in use, as Okta
// refuses those.
func (s *Server) AddUser(u User) string {
	if u.Login == "" {
		u.Login = u.Email
	}
	if u.Email == "" {
		u.Email = u.Login
	}
	if u.Login == "" {
		panic("oktafake: AddUser needs a Login or Email")
	}
	if u.Status == "" {
		u.Status = StatusActive
	}
	if !slices.Contains(validStatuses, u.Status) {
		panic(fmt.Sprintf("oktafake: AddUser: unknown status %q", u.Status))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = "00u" + randomID(17)
	}
	if _, ok := s.seqs[u.ID]; ok {
		panic(fmt.Sprintf("oktafake: AddUser: id %q already used", u.ID))
	}
	if s.userByLoginLocked(u.Login) != nil {
		panic(fmt.Sprintf("oktafake: AddUser: login %q already exists", u.Login))
	}
	now := s.now()
	nu := &user{
		seq:           s.newSeqLocked(u.ID),
		id:            u.ID,
		login:         u.Login,
		email:         u.Email,
		firstName:     u.FirstName,
		lastName:      u.LastName,
		title:         u.Title,
		status:        u.Status,
		created:       now,
		statusChanged: now,
		lastUpdated:   now,
		groups:        map[string]bool{},
	}
	if u.Status != StatusStaged && u.Status != StatusProvisioned {
		nu.activated = now
	}
	if u.Status != StatusStaged && u.Status != StatusProvisioned || u.CreatedWithPassword {
		nu.passwordChanged = now
	}
	s.users[u.ID] = nu
	s.emitLocked("user.lifecycle.create", s.userTargetLocked(nu))
	if nu.status == StatusActive {
		s.emitLocked("user.lifecycle.activate", s.userTargetLocked(nu))
	}
	return u.ID
}

// SetUserStatus puts a user straight into any of Okta's statuses, without
// Okta's lifecycle rules (a test's shortcut; Lifecycle applies the rules),
// updating statusChanged and lastUpdated, and activated when the user first
// becomes ACTIVE, and logging the event Okta logs for that change. Group
// memberships are kept, as Okta keeps them for deactivated users.
func (s *Server) SetUserStatus(idOrLogin, status string) error {
	if !slices.Contains(validStatuses, status) {
		return fmt.Errorf("setting status of %s: unknown status %q", idOrLogin, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(idOrLogin)
	if u == nil {
		return fmt.Errorf("setting status of %s: user %w", idOrLogin, ErrNotFound)
	}
	s.setStatusLocked(u, status)
	return nil
}

func (s *Server) setStatusLocked(u *user, status string) {
	old := u.status
	if old == status {
		return
	}
	now := s.now()
	u.status = status
	u.statusChanged = now
	u.lastUpdated = now
	if status == StatusActive && u.activated.IsZero() {
		u.activated = now
	}
	if eventType := statusEventType(old, status); eventType != "" {
		s.emitLocked(eventType, s.userTargetLocked(u))
	}
}

// statusEventType names the System Log event Okta publishes when a user
// moves from one status to another (SetUserStatus's shortcut).
func statusEventType(from, to string) string {
	switch to {
	case StatusDeprovisioned:
		return "user.lifecycle.deactivate"
	case StatusSuspended:
		return "user.lifecycle.suspend"
	case StatusLockedOut:
		return "user.account.lock"
	case StatusRecovery:
		return "user.account.reset_password"
	case StatusPasswordExpired:
		return "user.account.expire_password"
	case StatusProvisioned:
		return "user.lifecycle.activate"
	case StatusActive:
		switch from {
		case StatusSuspended:
			return "user.lifecycle.unsuspend"
		case StatusLockedOut:
			return "user.account.unlock"
		case StatusRecovery, StatusPasswordExpired, StatusProvisioned:
			return "user.account.update_password"
		default:
			return "user.lifecycle.activate"
		}
	}
	return ""
}

// UpdateUser changes a user's profile (login, email, first and last name;
// empty fields are left as they are) and stamps lastUpdated.
func (s *Server) UpdateUser(idOrLogin string, profile User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(idOrLogin)
	if u == nil {
		return fmt.Errorf("updating user %s: %w", idOrLogin, ErrNotFound)
	}
	if profile.Login != "" && profile.Login != u.login {
		if other := s.userByLoginLocked(profile.Login); other != nil && other != u {
			return fmt.Errorf("updating user %s: login %q already exists", idOrLogin, profile.Login)
		}
		u.login = profile.Login
	}
	if profile.Email != "" {
		u.email = profile.Email
	}
	if profile.FirstName != "" {
		u.firstName = profile.FirstName
	}
	if profile.LastName != "" {
		u.lastName = profile.LastName
	}
	u.lastUpdated = s.now()
	s.emitLocked("user.account.update_profile", s.userTargetLocked(u))
	return nil
}

// DeleteUser removes a user for good, as an admin does in the console: a
// user that is not DEPROVISIONED is deactivated first (Okta deletes only
// deactivated users), then deleted. It leaves every group, its tokens stop
// working, and the API answers 404 for it.
func (s *Server) DeleteUser(idOrLogin string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(idOrLogin)
	if u == nil {
		return fmt.Errorf("deleting user %s: %w", idOrLogin, ErrNotFound)
	}
	if u.status != StatusDeprovisioned {
		s.setStatusLocked(u, StatusDeprovisioned)
	}
	s.deleteUserLocked(u)
	return nil
}

func (s *Server) deleteUserLocked(u *user) {
	now := s.now()
	for gid := range u.groups {
		if g := s.groups[gid]; g != nil {
			delete(g.members, u.id)
			g.lastMembershipUpdated = now
		}
	}
	target := s.userTargetLocked(u)
	delete(s.users, u.id)
	for tok, at := range s.tokens {
		if at.userID == u.id {
			delete(s.tokens, tok)
		}
	}
	s.emitLocked("user.lifecycle.delete.initiated", target)
}

// AddGroup creates an OKTA_GROUP and returns its id ("00g" + 17
// characters). It panics when a group with that name exists, as Okta
// refuses duplicate names.
func (s *Server) AddGroup(name, description string) string {
	if name == "" {
		panic("oktafake: AddGroup needs a name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groupByNameLocked(name) != nil {
		panic(fmt.Sprintf("oktafake: AddGroup: group %q already exists", name))
	}
	id := "00g" + randomID(17)
	now := s.now()
	g := &group{
		seq:                   s.newSeqLocked(id),
		id:                    id,
		name:                  name,
		description:           description,
		created:               now,
		lastUpdated:           now,
		lastMembershipUpdated: now,
		members:               map[string]bool{},
	}
	s.groups[id] = g
	s.emitLocked("group.lifecycle.create", s.groupTargetLocked(g))
	return id
}

// RenameGroup changes a group's name and stamps its lastUpdated.
func (s *Server) RenameGroup(groupID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupLocked(groupID)
	if g == nil {
		return fmt.Errorf("renaming group %s: %w", groupID, ErrNotFound)
	}
	if other := s.groupByNameLocked(name); other != nil && other != g {
		return fmt.Errorf("renaming group %s: group %q already exists", groupID, name)
	}
	g.name = name
	g.lastUpdated = s.now()
	return nil
}

// SetGroupDescription changes a group's description and stamps its lastUpdated.
func (s *Server) SetGroupDescription(groupID, description string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupLocked(groupID)
	if g == nil {
		return fmt.Errorf("describing group %s: %w", groupID, ErrNotFound)
	}
	g.description = description
	g.lastUpdated = s.now()
	return nil
}

// DeleteGroup removes a group; its members simply stop being members.
func (s *Server) DeleteGroup(groupID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupLocked(groupID)
	if g == nil {
		return fmt.Errorf("deleting group %s: %w", groupID, ErrNotFound)
	}
	for uid := range g.members {
		if u := s.users[uid]; u != nil {
			delete(u.groups, g.id)
		}
	}
	delete(s.groups, g.id)
	s.emitLocked("group.lifecycle.delete", s.groupTargetLocked(g))
	return nil
}

// AddMember puts a user (id or login) in a group and stamps the group's
// lastMembershipUpdated. Adding a member twice changes nothing.
func (s *Server) AddMember(groupID, userIDOrLogin string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addMemberLocked(groupID, userIDOrLogin)
}

func (s *Server) addMemberLocked(groupID, userIDOrLogin string) error {
	g := s.groupLocked(groupID)
	if g == nil {
		return fmt.Errorf("adding %s to group %s: group %w", userIDOrLogin, groupID, ErrNotFound)
	}
	u := s.userLocked(userIDOrLogin)
	if u == nil {
		return fmt.Errorf("adding %s to group %s: user %w", userIDOrLogin, groupID, ErrNotFound)
	}
	if g.members[u.id] {
		return nil
	}
	g.members[u.id] = true
	u.groups[g.id] = true
	g.lastMembershipUpdated = s.now()
	s.emitLocked("group.user_membership.add", s.userTargetLocked(u), s.groupTargetLocked(g))
	return nil
}

// RemoveMember takes a user (id or login) out of a group and stamps the
// group's lastMembershipUpdated. Removing a non-member changes nothing.
func (s *Server) RemoveMember(groupID, userIDOrLogin string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removeMemberLocked(groupID, userIDOrLogin)
}

func (s *Server) removeMemberLocked(groupID, userIDOrLogin string) error {
	g := s.groupLocked(groupID)
	if g == nil {
		return fmt.Errorf("removing %s from group %s: group %w", userIDOrLogin, groupID, ErrNotFound)
	}
	u := s.userLocked(userIDOrLogin)
	if u == nil {
		return fmt.Errorf("removing %s from group %s: user %w", userIDOrLogin, groupID, ErrNotFound)
	}
	if !g.members[u.id] {
		return nil
	}
	delete(g.members, u.id)
	delete(u.groups, g.id)
	g.lastMembershipUpdated = s.now()
	s.emitLocked("group.user_membership.remove", s.userTargetLocked(u), s.groupTargetLocked(g))
	return nil
}

// User returns the user with that id or login (logins match case-insensitively).
func (s *Server) User(idOrLogin string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(idOrLogin)
	if u == nil {
		return User{}, false
	}
	return s.userSnapshotLocked(u), true
}

// UserByEmail returns the first user (in creation order) with that primary email.
func (s *Server) UserByEmail(email string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.sortedUsersLocked() {
		if strings.EqualFold(u.email, email) {
			return s.userSnapshotLocked(u), true
		}
	}
	return User{}, false
}

// Users returns every user, whatever the status, in creation order.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []User
	for _, u := range s.sortedUsersLocked() {
		out = append(out, s.userSnapshotLocked(u))
	}
	return out
}

// Group returns the group with that id.
func (s *Server) Group(id string) (Group, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil {
		return Group{}, false
	}
	return s.groupSnapshotLocked(g), true
}

// GroupByName returns the group with that exact name (case-insensitive, as
// Okta's uniqueness rule).
func (s *Server) GroupByName(name string) (Group, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupByNameLocked(name)
	if g == nil {
		return Group{}, false
	}
	return s.groupSnapshotLocked(g), true
}

// Groups returns every group in creation order.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Group
	for _, g := range s.sortedGroupsLocked() {
		out = append(out, s.groupSnapshotLocked(g))
	}
	return out
}

func (s *Server) userLocked(idOrLogin string) *user {
	if u := s.users[idOrLogin]; u != nil {
		return u
	}
	return s.userByLoginLocked(idOrLogin)
}

func (s *Server) userByLoginLocked(login string) *user {
	for _, u := range s.users {
		if strings.EqualFold(u.login, login) {
			return u
		}
	}
	return nil
}

func (s *Server) groupLocked(id string) *group {
	return s.groups[id]
}

func (s *Server) groupByNameLocked(name string) *group {
	for _, g := range s.groups {
		if strings.EqualFold(g.name, name) {
			return g
		}
	}
	return nil
}

func (s *Server) sortedUsersLocked() []*user {
	out := make([]*user, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *user) int { return int(a.seq - b.seq) })
	return out
}

func (s *Server) sortedGroupsLocked() []*group {
	out := make([]*group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group) int { return int(a.seq - b.seq) })
	return out
}

func (s *Server) sortedIDsLocked(set map[string]bool) []string {
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return int(s.seqs[a] - s.seqs[b]) })
	return ids
}

func (s *Server) userSnapshotLocked(u *user) User {
	return User{
		ID: u.id, Login: u.login, Email: u.email, FirstName: u.firstName, LastName: u.lastName, Title: u.title,
		Status: u.status, Created: u.created, Activated: u.activated, StatusChanged: u.statusChanged,
		LastLogin: u.lastLogin, LastUpdated: u.lastUpdated, PasswordChanged: u.passwordChanged,
		Groups: s.sortedIDsLocked(u.groups),
	}
}

func (s *Server) groupSnapshotLocked(g *group) Group {
	return Group{
		ID: g.id, Name: g.name, Description: g.description, Type: "OKTA_GROUP",
		Created: g.created, LastUpdated: g.lastUpdated, LastMembershipUpdated: g.lastMembershipUpdated,
		Members: s.sortedIDsLocked(g.members),
	}
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomID returns n random characters from Okta's id alphabet.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}
