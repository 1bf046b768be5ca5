package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// pageSize is how many entries one page of a list shows. Lists are read
// with keyset pagination (?before=ID, newest first), so a page costs the
// same however long the list is.
const pageSize = 50

// pagePerson is the signed-in person of a page behind requirePagePerson.
func (s *Server) pagePerson(c echo.Context) (*grants.Person, bool) {
	p, admin, _ := s.sessionPerson(c)
	return p, admin
}

// beforeParam reads the keyset cursor ?before=ID: 0 means the first page.
func beforeParam(c echo.Context) (int64, error) {
	v := c.QueryParam("before")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, httpError(http.StatusBadRequest, "before must be a positive whole number, not "+strconv.Quote(v))
	}
	return id, nil
}

// pager links the pages of a list.
type pager struct {
	// Newest is the URL of the first page; "" on the first page.
	Newest string
	// Older is the URL of the page after this one; "" on the last page.
	Older string
}

// newPager builds the links of a page of the list at u (whose other query
// parameters, such as filters, are kept): before is this page's cursor,
// lastID the id of its last entry, more whether older entries follow.
func newPager(u *url.URL, before, lastID int64, more bool) pager {
	var p pager
	q := u.Query()
	if before > 0 {
		q.Del("before")
		p.Newest = u.Path
		if enc := q.Encode(); enc != "" {
			p.Newest += "?" + enc
		}
	}
	if more {
		q.Set("before", strconv.FormatInt(lastID, 10))
		p.Older = u.Path + "?" + q.Encode()
	}
	return p
}

// showTime renders a moment as pages show it.
func showTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// showTimePtr renders an optional moment; "" when there is none.
func showTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return showTime(*t)
}

// timeLeft says how long is left, as static/app.js's countdowns do.
func timeLeft(d time.Duration) string {
	if d <= 0 {
		return "expired"
	}
	s := int64(d / time.Second)
	h, m := s/3600, (s%3600)/60
	s %= 60
	switch {
	case h > 0:
		return strconv.FormatInt(h, 10) + "h " + strconv.FormatInt(m, 10) + "m left"
	case m > 0:
		return strconv.FormatInt(m, 10) + "m " + strconv.FormatInt(s, 10) + "s left"
	default:
		return strconv.FormatInt(s, 10) + "s left"
	}
}

// statusBadge is the badge class of a request or grant status.
func statusBadge(status string) string {
	switch status {
	case grants.RequestPending:
		return "warn"
	case grants.RequestApproved, grants.GrantActive:
		return "ok"
	case grants.RequestDenied, grants.GrantRevoked:
		return "bad"
	}
	return ""
}

// grantView is a grant as pages show it.
type grantView struct {
	ID           int64
	RequestID    int64
	Resource     string
	Group        string
	User         string
	Status       string
	Badge        string
	Active       bool
	StartsAt     string
	ExpiresAt    string
	ExpiresISO   string // for <time datetime> and the live countdown
	TimeLeft     string
	AppliedAt    string // "" until the tailnet policy was confirmed to hold the user
	RemovedAt    string // "" until it was confirmed not to any more
	RevokedBy    string
	RevokeReason string
	GrantedBy    string
	Reason       string
	// EndedAt is when an ended grant actually ended: its revocation time
	// for a revoked (or relinquished) grant, else its expiry.
	EndedAt string
	// Locks are the active grant's locks in the tailnet; nil when not read.
	Locks *grantLocks
}

func (s *Server) newGrantView(g *grants.Grant) grantView {
	v := grantView{
		ID: g.ID, Resource: g.Resource, Group: g.GroupName, User: g.UserEmail, Status: g.Status,
		Badge: statusBadge(g.Status), Active: g.Status == grants.GrantActive,
		StartsAt: showTime(g.StartsAt), ExpiresAt: showTime(g.ExpiresAt),
		ExpiresISO: g.ExpiresAt.UTC().Format(time.RFC3339), TimeLeft: timeLeft(g.ExpiresAt.Sub(s.now())),
		AppliedAt: showTimePtr(g.AppliedAt), RemovedAt: showTimePtr(g.RemovedAt),
		RevokedBy: g.RevokedBy, RevokeReason: g.RevokeReason, GrantedBy: g.GrantedBy, Reason: g.Reason,
	}
	if g.RequestID != nil {
		v.RequestID = *g.RequestID
	}
	if !v.Active {
		v.EndedAt = v.ExpiresAt
		if g.RevokedAt != nil && g.RevokedAt.Before(g.ExpiresAt) {
			v.EndedAt = showTime(*g.RevokedAt)
		}
	}
	return v
}

// requestView is a request as pages show it.
type requestView struct {
	ID        int64
	Resource  string
	Requester string
	Duration  string
	Reason    string
	Status    string
	Badge     string
	Pending   bool
	CreatedAt string
	DecidedAt string
	Decisions []decisionView
	Grant     *grantView
	// AutoRule names the rule that approved the request at once ("" when
	// people decided it).
	AutoRule string
	// Extends is the grant the request extends; 0 for a new request.
	Extends int64
	// Denial is the decision that denied it, if any.
	Denial *decisionView
	// Again is the request form prefilled with this request's duration
	// and reason ("request again").
	Again string
	// Age says how long ago the request was made ("5m ago").
	Age string
}

// decisionView is one approver's decision.
type decisionView struct {
	By      string
	Approve bool
	Comment string
	At      string
	// Duration is the grant length the approver set; "" when they kept
	// the requested one.
	Duration string
}

func (s *Server) newRequestView(r *grants.Request) requestView {
	v := requestView{
		ID: r.ID, Resource: r.Resource, Requester: r.Requester, Duration: grants.FormatDuration(r.Duration()),
		Reason: r.Reason, Status: r.Status, Badge: statusBadge(r.Status), Pending: r.Status == grants.RequestPending,
		CreatedAt: showTime(r.CreatedAt), DecidedAt: showTimePtr(r.DecidedAt),
		AutoRule: r.AutoApprovedRule, Again: requestAgainURL(r), Age: waitingFor(s.now().Sub(r.CreatedAt)),
	}
	if r.ExtendsGrantID != nil {
		v.Extends = *r.ExtendsGrantID
	}
	for _, d := range r.Decisions {
		dv := decisionView{By: d.Approver, Approve: d.Decision == grants.DecisionApprove, Comment: d.Comment, At: showTime(d.At)}
		if d.DurationSeconds != nil {
			dv.Duration = grants.FormatDuration(time.Duration(*d.DurationSeconds) * time.Second)
		}
		v.Decisions = append(v.Decisions, dv)
		if !dv.Approve {
			denial := dv
			v.Denial = &denial
		}
	}
	if r.Grant != nil {
		g := s.newGrantView(r.Grant)
		v.Grant = &g
	}
	return v
}

// localRedirect answers a form with 303 to next when it is a same-origin
// path, else to fallback.
func localRedirect(c echo.Context, next, fallback string) error {
	if next == "" || safeNext(next) != next {
		next = fallback
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// requestAgainURL is the request form for r's resource with r's duration
// and reason filled in.
func requestAgainURL(r *grants.Request) string {
	q := url.Values{"duration": {grants.FormatDuration(r.Duration())}}
	if r.Reason != "" {
		q.Set("reason", r.Reason)
	}
	return "/resources/" + url.PathEscape(r.Resource) + "/request?" + q.Encode()
}
