package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// requesterView is a requester as approvers see them.
type requesterView struct {
	Email string
	Name  string
	// Status is their Okta status; "" when the directory does not know them.
	Status string
	Active bool
	Groups []string
}

func newRequesterView(email string, p *grants.Person) requesterView {
	if p == nil {
		return requesterView{Email: email}
	}
	return requesterView{Email: email, Name: p.Name, Status: p.Status, Active: p.Active(), Groups: p.Groups}
}

// historyLength is how many earlier requests of a requester approvers see.
const historyLength = 5

// decisionItem is a pending request as an approver decides it: who asks,
// what for, their groups and history, and what the grant puts into the
// tailnet.
type decisionItem struct {
	Request   requestView
	Requester requesterView
	Approvals int // approvals so far
	Needed    int // approvals the resource needs
	// Waiting says how long ago the request was made.
	Waiting string
	// MayApprove and MayDeny say which forms the approver gets.
	MayApprove bool
	MayDeny    bool
	// Decided is the approver's own earlier decision ("approve"), if any.
	Decided string
	// History are the requester's last decided requests; Holds their
	// active grants.
	History []requestView
	Holds   []grantView
	Preview *policyPreview
	// Next is where the forms return; Comment the typed comment after a
	// refusal.
	Next    string
	Comment string
	// Durations are the grant lengths the approver may set, the requested
	// one selected.
	Durations []durationChoice
}

// decisionItems builds what approver me sees of each pending request: two
// queries for the requesters, one for their history and grants, one read
// of the tailnet policy for the whole page.
func (s *Server) decisionItems(ctx context.Context, me *grants.Person, admin bool, reqs []*grants.Request, next string) ([]decisionItem, error) {
	cat := s.opts.Catalog()
	var emails []string
	for _, r := range reqs {
		if !slices.Contains(emails, r.Requester) {
			emails = append(emails, r.Requester)
		}
	}
	people, err := s.store.LookupPeople(ctx, emails)
	if err != nil {
		return nil, err
	}
	history, err := s.store.RecentDecidedRequests(ctx, emails, historyLength)
	if err != nil {
		return nil, err
	}
	holds, err := s.store.ActiveGrantsOf(ctx, emails)
	if err != nil {
		return nil, err
	}
	var groups []string
	for _, r := range reqs {
		if res, ok := cat.Resources[r.Resource]; ok && !slices.Contains(groups, res.Group) {
			groups = append(groups, res.Group)
		}
	}
	previews := s.policyPreviews(ctx, groups)
	postures := s.posturePreviews(ctx, postureAttributes(cat, reqs))

	items := make([]decisionItem, 0, len(reqs))
	for _, r := range reqs {
		res, known := cat.Resources[r.Resource]
		mayApprove := known && cat.MayApprove(me, res)
		it := decisionItem{
			Request: s.newRequestView(r), Requester: newRequesterView(r.Requester, people[r.Requester]),
			Needed: 1, MayApprove: mayApprove, MayDeny: mayApprove || admin, Next: next,
			Waiting: waitingFor(s.now().Sub(r.CreatedAt)),
		}
		if known {
			it.Needed = max(res.Approvals, 1)
			it.Durations = durationChoices(res, r.Duration())
			if pv, ok := previews[res.Group]; ok {
				withMember := *pv
				withMember.Member = r.Requester
				withMember.Posture = postures[res.DevicePosture]
				it.Preview = &withMember
			}
		}
		for _, d := range r.Decisions {
			if d.Decision == grants.DecisionApprove {
				it.Approvals++
			}
			if d.Approver == me.Email {
				it.Decided = d.Decision
			}
		}
		for i := range history[r.Requester] {
			it.History = append(it.History, s.newRequestView(&history[r.Requester][i]))
		}
		for i := range holds {
			if holds[i].UserEmail == r.Requester {
				it.Holds = append(it.Holds, s.newGrantView(&holds[i]))
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// inboxPageData is the data of the approver's inbox.
type inboxPageData struct {
	Flash string
	// Approves are the resources whose requests I approve.
	Approves []string
	Items    []decisionItem
	Pager    pager
}

// inboxPage lists the pending requests the signed-in person may decide —
// never their own — oldest last, one page at a time.
func (s *Server) inboxPage(c echo.Context) error {
	p, admin := s.pagePerson(c)
	before, err := beforeParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	page := inboxPageData{Flash: s.popFlash(c), Approves: s.opts.Catalog().ApprovableResources(p)}
	if len(page.Approves) == 0 {
		return s.render(c, http.StatusOK, "inbox.html", page)
	}
	rows, more, err := s.store.PendingRequestsFor(ctx, page.Approves, p.Email, grants.Page{Before: before, Size: pageSize})
	if err != nil {
		return err
	}
	reqs := make([]*grants.Request, len(rows))
	for i := range rows {
		reqs[i] = &rows[i]
	}
	next := c.Request().URL.RequestURI()
	page.Items, err = s.decisionItems(ctx, p, admin, reqs, next)
	if err != nil {
		return err
	}
	var last int64
	if len(rows) > 0 {
		last = rows[len(rows)-1].ID
	}
	page.Pager = newPager(c.Request().URL, before, last, more)
	return s.render(c, http.StatusOK, "inbox.html", page)
}

// waitingFor says how long a request has waited, for the inbox.
func waitingFor(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days ago"
}
