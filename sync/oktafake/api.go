package oktafake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// oktaTimeFormat is how Okta writes timestamps: UTC with milliseconds.
const oktaTimeFormat = "2006-01-02T15:04:05.000Z"

func oktaTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(oktaTimeFormat)
	return &s
}

// apiRoutes is the Management API subset the fake serves.
func (s *Server) apiRoutes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/v1/users", s.listUsers)
	m.HandleFunc("GET /api/v1/users/{id}", s.getUser)
	m.HandleFunc("DELETE /api/v1/users/{id}", s.deleteUser)
	m.HandleFunc("GET /api/v1/users/{id}/groups", s.listUserGroups)
	m.HandleFunc("POST /api/v1/users/{id}/lifecycle/{action}", s.userLifecycle)
	m.HandleFunc("GET /api/v1/groups", s.listGroups)
	m.HandleFunc("GET /api/v1/groups/{id}", s.getGroup)
	m.HandleFunc("GET /api/v1/groups/{id}/users", s.listGroupUsers)
	m.HandleFunc("PUT /api/v1/groups/{id}/users/{userId}", s.putGroupUser)
	m.HandleFunc("DELETE /api/v1/groups/{id}/users/{userId}", s.deleteGroupUser)
	m.HandleFunc("GET /api/v1/logs", s.listLogs)
	return m
}

// ServeHTTP serves the Management API under /api/, the OIDC endpoints, and
// the admin page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Date", s.clock().UTC().Format(http.TimeFormat))
	w.Header().Set("X-Okta-Request-Id", randomID(27))
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.serveAPI(w, r)
		return
	}
	_, pattern := s.web.Handler(r)
	s.count(route(r, pattern))
	s.web.ServeHTTP(w, r)
}

func route(r *http.Request, pattern string) string {
	if pattern == "" {
		return r.Method + " " + r.URL.Path
	}
	return pattern
}

func (s *Server) count(route string) {
	s.mu.Lock()
	s.calls[route]++
	s.mu.Unlock()
}

// serveAPI runs what Okta does before any Management API handler: the
// injected faults, rate limiting, and SSWS authentication.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.api.Handler(r)
	rt := route(r, pattern)

	s.mu.Lock()
	s.calls[rt]++
	fault := 0
	if len(s.faults) > 0 {
		fault = s.faults[0]
		s.faults = s.faults[1:]
	}
	limit, remaining, reset, allowed := s.takeRateLocked(rt)
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	if fault == http.StatusTooManyRequests {
		setRateHeaders(w, limit, 0, s.clock().Unix()+1)
		writeOktaError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	setRateHeaders(w, limit, remaining, reset)
	if fault != 0 {
		code, summary := faultError(fault)
		writeOktaError(w, fault, code, summary)
		return
	}
	if !allowed {
		writeOktaError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	if !s.authorizeAPI(w, r, pattern) {
		return
	}
	if pattern == "" {
		// No route: the mux's plain-text 404 or 405 becomes Okta's JSON error.
		s.api.ServeHTTP(&statusRecorder{ResponseWriter: w}, r)
		return
	}
	s.api.ServeHTTP(w, r) // the mux, not h, so that PathValue works
}

// statusRecorder turns the mux's plain-text 404/405 into Okta's JSON errors.
type statusRecorder struct {
	http.ResponseWriter
	wrote bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.wrote {
		return
	}
	s.wrote = true
	switch code {
	case http.StatusMethodNotAllowed:
		writeOktaError(s.ResponseWriter, code, "E0000022", "The endpoint does not support the provided HTTP method")
	default:
		writeOktaError(s.ResponseWriter, http.StatusNotFound, "E0000007", "Not found: Resource not found: endpoint (Resource)")
	}
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	return len(b), nil
}

// FailNext makes the next n Management API requests fail with status and
// Okta's error body for it (a 429 also carries the rate-limit headers).
// Faults queue up in the order they are asked for.
func (s *Server) FailNext(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, status)
	}
}

// ClearFaults drops the faults FailNext and RateLimitNext queued and that no
// request has taken yet.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// RateLimitNext makes the next n Management API requests answer 429 with
// X-Rate-Limit-Remaining 0 and X-Rate-Limit-Reset one second from now.
func (s *Server) RateLimitNext(n int) { s.FailNext(n, http.StatusTooManyRequests) }

// Calls returns how many requests each route received, keyed by the route
// pattern ("GET /api/v1/users", "GET /api/v1/groups/{id}/users",
// "POST /oauth2/v1/token", ...), failed ones included.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// ResetCalls zeroes the counters Calls reports.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
}

func faultError(status int) (code, summary string) {
	switch status {
	case http.StatusBadRequest:
		return "E0000001", "Api validation failed"
	case http.StatusUnauthorized:
		return "E0000011", "Invalid token provided"
	case http.StatusForbidden:
		return "E0000006", "You do not have permission to perform the requested action"
	case http.StatusNotFound:
		return "E0000007", "Not found: Resource not found"
	case http.StatusServiceUnavailable:
		return "E0000010", "Service is in read only mode"
	default:
		return "E0000009", "Internal Server Error"
	}
}

// oktaError is the body Okta sends with every Management API error.
type oktaError struct {
	ErrorCode    string              `json:"errorCode"`
	ErrorSummary string              `json:"errorSummary"`
	ErrorLink    string              `json:"errorLink"`
	ErrorID      string              `json:"errorId"`
	ErrorCauses  []map[string]string `json:"errorCauses"`
}

func writeOktaError(w http.ResponseWriter, status int, code, summary string, causes ...string) {
	body := oktaError{
		ErrorCode:    code,
		ErrorSummary: summary,
		ErrorLink:    code,
		ErrorID:      "oae" + randomID(19),
		ErrorCauses:  []map[string]string{},
	}
	for _, c := range causes {
		body.ErrorCauses = append(body.ErrorCauses, map[string]string{"errorSummary": c})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func notFound(w http.ResponseWriter, id, kind string) {
	writeOktaError(w, http.StatusNotFound, "E0000007", fmt.Sprintf("Not found: Resource not found: %s (%s)", id, kind))
}

// rateWindow counts one endpoint's requests in the current minute.
type rateWindow struct {
	start time.Time
	used  int
}

// rateLimit is Okta's default per-minute limit for an endpoint (approximately:
// real orgs vary by plan).
func (s *Server) rateLimit(route string) int {
	if s.opts.RateLimitPerMinute > 0 {
		return s.opts.RateLimitPerMinute
	}
	switch route {
	case "GET /api/v1/users":
		return 600
	case "GET /api/v1/groups":
		return 500
	case "GET /api/v1/users/{id}":
		return 2000
	case "GET /api/v1/groups/{id}", "GET /api/v1/groups/{id}/users":
		return 1000
	case "GET /api/v1/logs":
		return 120
	default:
		return 1200
	}
}

// takeRateLocked spends one request of route's budget in the current minute.
func (s *Server) takeRateLocked(route string) (limit, remaining int, reset int64, allowed bool) {
	limit = s.rateLimit(route)
	now := s.clock()
	start := now.Truncate(time.Minute)
	win := s.windows[route]
	if win == nil || !win.start.Equal(start) {
		win = &rateWindow{start: start}
		s.windows[route] = win
	}
	reset = start.Add(time.Minute).Unix()
	if s.opts.RateLimitPerMinute < 0 {
		return limit, limit, reset, true
	}
	if win.used >= limit {
		return limit, 0, reset, false
	}
	win.used++
	return limit, limit - win.used, reset, true
}

func setRateHeaders(w http.ResponseWriter, limit, remaining int, reset int64) {
	w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset, 10))
}

// baseURL is the issuer, or the request's own origin before SetIssuer.
func (s *Server) baseURLLocked(r *http.Request) string {
	if s.issuer != "" {
		return s.issuer
	}
	return "http://" + r.Host
}

func (s *Server) baseURL(r *http.Request) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURLLocked(r)
}

// page is one page of a listing: the ids to return and the cursor of the next.
type page struct {
	ids   []string
	next  string
	limit int
}

// pageLocked cuts one page out of ids (in listing order) after the cursor.
func (s *Server) pageLocked(ids []string, r *http.Request) (page, error) {
	q := r.URL.Query()
	limit := s.pageLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return page{}, fmt.Errorf("limit: must be a positive integer")
		}
		limit = min(n, s.pageLimit)
	}
	start := 0
	if after := q.Get("after"); after != "" {
		seq, ok := s.seqs[after]
		if !ok {
			return page{}, fmt.Errorf("after: unknown cursor %q", after)
		}
		start = len(ids)
		for i, id := range ids {
			if s.seqs[id] > seq {
				start = i
				break
			}
		}
	}
	end := min(start+limit, len(ids))
	p := page{ids: ids[start:end], limit: limit}
	if end < len(ids) {
		p.next = ids[end-1]
	}
	return p, nil
}

// writePage sends a listing with Okta's Link headers: rel="self" always and
// rel="next" (with after and limit) when there is more.
func writePage(w http.ResponseWriter, r *http.Request, base string, p page, items any) {
	self := base + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", fmt.Sprintf("<%s>; rel=\"self\"", self))
	if p.next != "" {
		q := r.URL.Query()
		q.Set("after", p.next)
		q.Set("limit", strconv.Itoa(p.limit))
		w.Header().Add("Link", fmt.Sprintf("<%s%s?%s>; rel=\"next\"", base, r.URL.Path, q.Encode()))
	}
	writeJSON(w, http.StatusOK, items)
}

func badRequest(w http.ResponseWriter, err error) {
	writeOktaError(w, http.StatusBadRequest, "E0000001", "Api validation failed: "+err.Error(), err.Error())
}

func badSearch(w http.ResponseWriter, err error) {
	writeOktaError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.", err.Error())
}

// Okta's filter parameter only supports these attributes; search supports more.
var (
	userFilterAttrs  = []string{"status", "lastUpdated", "id", "profile.login", "profile.email", "profile.firstName", "profile.lastName"}
	groupFilterAttrs = []string{"id", "type", "lastUpdated", "lastMembershipUpdated"}
)

// listUsers is GET /api/v1/users. Without filter or search, Okta leaves
// DEPROVISIONED users out; filter and search see every user.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	match, err := listPredicate(q, userFilterAttrs, userSearchAttrs)
	if err != nil {
		badSearch(w, err)
		return
	}
	prefix := strings.ToLower(q.Get("q"))

	s.mu.Lock()
	var ids []string
	for _, u := range s.sortedUsersLocked() {
		get := s.userAttrLocked(u)
		switch {
		case match != nil:
			if !match(get) {
				continue
			}
		case u.status == StatusDeprovisioned:
			continue
		}
		if prefix != "" && !hasPrefixFold(prefix, u.firstName, u.lastName, u.email) {
			continue
		}
		ids = append(ids, u.id)
	}
	writePageLocked(s, w, r, ids, func(base, id string) userJSON { return s.userJSONLocked(base, s.users[id]) })
}

func hasPrefixFold(prefix string, values ...string) bool {
	for _, v := range values {
		if strings.HasPrefix(strings.ToLower(v), prefix) {
			return true
		}
	}
	return false
}

// listPredicate compiles the filter and search parameters (both must match).
func listPredicate(q url.Values, filterAttrs, searchAttrs []string) (func(attrGetter) bool, error) {
	var preds []func(attrGetter) bool
	if f := q.Get("filter"); f != "" {
		e, err := parseExpr(f)
		if err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		if err := e.check(filterAttrs, false); err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		preds = append(preds, func(g attrGetter) bool { return e.eval(g, false) })
	}
	if sq := q.Get("search"); sq != "" {
		e, err := parseExpr(sq)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		if err := e.check(searchAttrs, true); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		preds = append(preds, func(g attrGetter) bool { return e.eval(g, true) })
	}
	if len(preds) == 0 {
		return nil, nil
	}
	return func(g attrGetter) bool {
		for _, p := range preds {
			if !p(g) {
				return false
			}
		}
		return true
	}, nil
}

// lookupUserLocked finds a user by id, login, or unambiguous login short name.
func (s *Server) lookupUserLocked(key string) *user {
	if u := s.userLocked(key); u != nil {
		return u
	}
	var found *user
	for _, u := range s.users {
		short, _, _ := strings.Cut(u.login, "@")
		if strings.EqualFold(short, key) {
			if found != nil {
				return nil
			}
			found = u
		}
	}
	return found
}

// getUser is GET /api/v1/users/{id|login}.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	u := s.lookupUserLocked(id)
	if u == nil {
		s.mu.Unlock()
		notFound(w, id, "User")
		return
	}
	body := s.userJSONLocked(s.baseURLLocked(r), u)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// deleteUser is DELETE /api/v1/users/{id}: like Okta, the first call
// deactivates an active user and a second call deletes the deactivated one.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupUserLocked(id)
	if u == nil {
		notFound(w, id, "User")
		return
	}
	if u.status != StatusDeprovisioned {
		_ = s.lifecycleLocked(u, OpDeactivate)
	} else {
		s.deleteUserLocked(u)
	}
	w.WriteHeader(http.StatusNoContent)
}

// listUserGroups is GET /api/v1/users/{id}/groups (not paginated, like Okta).
func (s *Server) listUserGroups(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	u := s.lookupUserLocked(id)
	if u == nil {
		s.mu.Unlock()
		notFound(w, id, "User")
		return
	}
	base := s.baseURLLocked(r)
	items := []groupJSON{}
	for _, gid := range s.sortedIDsLocked(u.groups) {
		items = append(items, s.groupJSONLocked(base, s.groups[gid]))
	}
	s.mu.Unlock()
	writePage(w, r, base, page{}, items)
}

// userLifecycle is POST /api/v1/users/{id}/lifecycle/{action} with Okta's
// preconditions (see lifecycle.go) and answers: activate and reactivate
// return an activation link and reset_password a reset link when sendEmail
// is false, expire_password the user, the others an empty object.
func (s *Server) userLifecycle(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupUserLocked(id)
	if u == nil {
		notFound(w, id, "User")
		return
	}
	if !slices.Contains(adminOps, action) {
		notFound(w, r.URL.Path, "Resource")
		return
	}
	if err := s.lifecycleLocked(u, action); err != nil {
		err.write(w)
		return
	}
	base := s.baseURLLocked(r)
	noEmail := r.URL.Query().Get("sendEmail") == "false"
	switch {
	case action == OpExpirePassword:
		writeJSON(w, http.StatusOK, s.userJSONLocked(base, u))
	case (action == OpActivate || action == OpReactivate) && noEmail && u.status == StatusProvisioned:
		token := randomID(20)
		writeJSON(w, http.StatusOK, map[string]string{"activationUrl": base + "/welcome/" + token, "activationToken": token})
	case action == OpResetPassword && noEmail:
		writeJSON(w, http.StatusOK, map[string]string{"resetPasswordUrl": base + "/reset_password/" + randomID(20)})
	default:
		writeJSON(w, http.StatusOK, map[string]any{})
	}
}

// listGroups is GET /api/v1/groups with q (name prefix), filter and search.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	match, err := listPredicate(q, groupFilterAttrs, groupSearchAttrs)
	if err != nil {
		badSearch(w, err)
		return
	}
	prefix := strings.ToLower(q.Get("q"))

	s.mu.Lock()
	var ids []string
	for _, g := range s.sortedGroupsLocked() {
		if match != nil && !match(groupAttr(g)) {
			continue
		}
		if prefix != "" && !hasPrefixFold(prefix, g.name) {
			continue
		}
		ids = append(ids, g.id)
	}
	writePageLocked(s, w, r, ids, func(base, id string) groupJSON { return s.groupJSONLocked(base, s.groups[id]) })
}

// getGroup is GET /api/v1/groups/{id}.
func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	g := s.groups[id]
	if g == nil {
		s.mu.Unlock()
		notFound(w, id, "UserGroup")
		return
	}
	body := s.groupJSONLocked(s.baseURLLocked(r), g)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// listGroupUsers is GET /api/v1/groups/{id}/users: every member, whatever
// the status, paginated.
func (s *Server) listGroupUsers(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	g := s.groups[id]
	if g == nil {
		s.mu.Unlock()
		notFound(w, id, "UserGroup")
		return
	}
	writePageLocked(s, w, r, s.sortedIDsLocked(g.members), func(base, id string) userJSON { return s.userJSONLocked(base, s.users[id]) })
}

// writePageLocked answers one page of ids, each rendered by item, with the
// Link headers of the list. It is called with s.mu held and releases it.
func writePageLocked[T any](s *Server, w http.ResponseWriter, r *http.Request, ids []string, item func(base, id string) T) {
	p, err := s.pageLocked(ids, r)
	if err != nil {
		s.mu.Unlock()
		badRequest(w, err)
		return
	}
	base := s.baseURLLocked(r)
	items := make([]T, 0, len(p.ids))
	for _, id := range p.ids {
		items = append(items, item(base, id))
	}
	s.mu.Unlock()
	writePage(w, r, base, p, items)
}

// putGroupUser is PUT /api/v1/groups/{id}/users/{userId}.
func (s *Server) putGroupUser(w http.ResponseWriter, r *http.Request) {
	s.changeMembership(w, r, s.addMemberLocked)
}

// deleteGroupUser is DELETE /api/v1/groups/{id}/users/{userId}.
func (s *Server) deleteGroupUser(w http.ResponseWriter, r *http.Request) {
	s.changeMembership(w, r, s.removeMemberLocked)
}

func (s *Server) changeMembership(w http.ResponseWriter, r *http.Request, change func(gid, uid string) error) {
	gid, uid := r.PathValue("id"), r.PathValue("userId")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups[gid] == nil {
		notFound(w, gid, "UserGroup")
		return
	}
	if s.users[uid] == nil {
		notFound(w, uid, "User")
		return
	}
	if err := change(gid, uid); err != nil {
		writeOktaError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error", err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// userJSON is a user as the Management API returns it.
type userJSON struct {
	ID              string          `json:"id"`
	Status          string          `json:"status"`
	Created         *string         `json:"created"`
	Activated       *string         `json:"activated"`
	StatusChanged   *string         `json:"statusChanged"`
	LastLogin       *string         `json:"lastLogin"`
	LastUpdated     *string         `json:"lastUpdated"`
	PasswordChanged *string         `json:"passwordChanged"`
	Type            typeJSON        `json:"type"`
	Profile         profileJSON     `json:"profile"`
	Credentials     credentialsJSON `json:"credentials"`
	Links           map[string]any  `json:"_links"`
}

type typeJSON struct {
	ID string `json:"id"`
}

type profileJSON struct {
	FirstName   string  `json:"firstName"`
	LastName    string  `json:"lastName"`
	MobilePhone *string `json:"mobilePhone"`
	SecondEmail *string `json:"secondEmail"`
	Login       string  `json:"login"`
	Email       string  `json:"email"`
	Title       string  `json:"title,omitempty"`
}

type credentialsJSON struct {
	Password *struct{}     `json:"password,omitempty"`
	Emails   []emailJSON   `json:"emails"`
	Provider providerJSON  `json:"provider"`
	Recovery *recoveryJSON `json:"recovery_question,omitempty"`
}

type emailJSON struct {
	Value  string `json:"value"`
	Status string `json:"status"`
	Type   string `json:"type"`
}

type providerJSON struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

type recoveryJSON struct {
	Question string `json:"question"`
}

type link struct {
	Href   string `json:"href"`
	Method string `json:"method,omitempty"`
}

func (s *Server) userJSONLocked(base string, u *user) userJSON {
	self := base + "/api/v1/users/" + u.id
	links := map[string]any{"self": link{Href: self}}
	lifecycle := func(action string) {
		links[action] = link{Href: self + "/lifecycle/" + action, Method: "POST"}
	}
	for _, op := range allowedOps(u.status, u.hasPassword(), adminOps) {
		switch op {
		case OpResetPassword:
			links["resetPassword"] = link{Href: self + "/lifecycle/reset_password", Method: "POST"}
		case OpExpirePassword:
			links["expirePassword"] = link{Href: self + "/lifecycle/expire_password", Method: "POST"}
		default:
			lifecycle(op)
		}
	}
	links["type"] = link{Href: base + "/api/v1/meta/types/user/" + s.typeID}
	links["schema"] = link{Href: base + "/api/v1/meta/schemas/user/osc" + s.typeID[3:]}
	creds := credentialsJSON{
		Emails:   []emailJSON{{Value: u.email, Status: "VERIFIED", Type: "PRIMARY"}},
		Provider: providerJSON{Type: "OKTA", Name: "OKTA"},
	}
	if !u.passwordChanged.IsZero() {
		creds.Password = &struct{}{}
	}
	return userJSON{
		ID:              u.id,
		Status:          u.status,
		Created:         oktaTime(u.created),
		Activated:       oktaTime(u.activated),
		StatusChanged:   oktaTime(u.statusChanged),
		LastLogin:       oktaTime(u.lastLogin),
		LastUpdated:     oktaTime(u.lastUpdated),
		PasswordChanged: oktaTime(u.passwordChanged),
		Type:            typeJSON{ID: s.typeID},
		Profile: profileJSON{
			FirstName: u.firstName, LastName: u.lastName, Login: u.login, Email: u.email, Title: u.title,
		},
		Credentials: creds,
		Links:       links,
	}
}

// groupJSON is a group as the Management API returns it.
type groupJSON struct {
	ID                    string           `json:"id"`
	Created               *string          `json:"created"`
	LastUpdated           *string          `json:"lastUpdated"`
	LastMembershipUpdated *string          `json:"lastMembershipUpdated"`
	ObjectClass           []string         `json:"objectClass"`
	Type                  string           `json:"type"`
	Profile               groupProfileJSON `json:"profile"`
	Links                 map[string]any   `json:"_links"`
}

type groupProfileJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type logoLink struct {
	Name string `json:"name"`
	Href string `json:"href"`
	Type string `json:"type"`
}

func (s *Server) groupJSONLocked(base string, g *group) groupJSON {
	self := base + "/api/v1/groups/" + g.id
	return groupJSON{
		ID:                    g.id,
		Created:               oktaTime(g.created),
		LastUpdated:           oktaTime(g.lastUpdated),
		LastMembershipUpdated: oktaTime(g.lastMembershipUpdated),
		ObjectClass:           []string{"okta:user_group"},
		Type:                  "OKTA_GROUP",
		Profile:               groupProfileJSON{Name: g.name, Description: g.description},
		Links: map[string]any{
			"logo": []logoLink{
				{Name: "medium", Href: "https://op1static.oktacdn.com/assets/img/logos/groups/okta-medium.png", Type: "image/png"},
				{Name: "large", Href: "https://op1static.oktacdn.com/assets/img/logos/groups/okta-large.png", Type: "image/png"},
			},
			"users": link{Href: self + "/users"},
			"apps":  link{Href: self + "/apps"},
		},
	}
}
