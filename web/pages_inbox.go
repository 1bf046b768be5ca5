package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

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

// lookupPeople reads the directory snapshot's people with these emails and
// their Okta groups in two queries, preferring an ACTIVE account when an
// email was reused (as grants.LookupPerson does for one person).
func lookupPeople(ctx context.Context, db *gorm.DB, emails []string) (map[string]*grants.Person, error) {
	out := map[string]*grants.Person{}
	if len(emails) == 0 {
		return out, nil
	}
	var users []grants.DirectoryUser
	if err := db.WithContext(ctx).Where("email IN ?", emails).Order("id").Find(&users).Error; err != nil {
		return nil, fmt.Errorf("looking up requesters: %w", err)
	}
	for _, u := range users {
		if cur, ok := out[u.Email]; ok && (cur.Active() || u.Status != grants.StatusActive) {
			continue
		}
		p := &grants.Person{ID: u.ID, Email: u.Email, Name: u.Name, Status: u.Status}
		out[u.Email] = p
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(out))
	byID := make(map[string]*grants.Person, len(out))
	for _, p := range out {
		ids = append(ids, p.ID)
		byID[p.ID] = p
	}
	var rows []struct {
		UserID string
		Name   string
	}
	err := db.WithContext(ctx).Table("directory_memberships m").Select("m.user_id AS user_id, g.name AS name").
		Joins("JOIN directory_groups g ON g.id = m.group_id").Where("m.user_id IN ?", ids).
		Order("g.name").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("reading requesters' groups: %w", err)
	}
	for _, r := range rows {
		byID[r.UserID].Groups = append(byID[r.UserID].Groups, r.Name)
	}
	return out, nil
}

// historyLength is how many earlier requests of a requester approvers see.
const historyLength = 5

// recentRequests reads, per requester, their last historyLength decided
// requests (one query), newest first, with their grants.
func (s *Server) recentRequests(ctx context.Context, requesters []string) (map[string][]grants.Request, error) {
	out := map[string][]grants.Request{}
	if len(requesters) == 0 {
		return out, nil
	}
	var rows []grants.Request
	err := s.db.WithContext(ctx).Raw(`SELECT id, resource, requester, duration_seconds, reason, status, created_at, decided_at, grant_id
FROM (SELECT id, resource, requester, duration_seconds, reason, status, created_at, decided_at, grant_id,
             ROW_NUMBER() OVER (PARTITION BY requester ORDER BY id DESC) AS n
      FROM requests WHERE requester IN ? AND status <> ?) recent
WHERE n <= ? ORDER BY requester, id DESC`, requesters, grants.RequestPending, historyLength).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("reading requesters' history: %w", err)
	}
	var grantIDs []int64
	for _, r := range rows {
		if r.GrantID != nil {
			grantIDs = append(grantIDs, *r.GrantID)
		}
	}
	byID := map[int64]*grants.Grant{}
	if len(grantIDs) > 0 {
		var gs []grants.Grant
		if err := s.db.WithContext(ctx).Where("id IN ?", grantIDs).Find(&gs).Error; err != nil {
			return nil, fmt.Errorf("reading requesters' grants: %w", err)
		}
		for i := range gs {
			byID[gs[i].ID] = &gs[i]
		}
	}
	for _, r := range rows {
		if r.GrantID != nil {
			r.Grant = byID[*r.GrantID]
		}
		out[r.Requester] = append(out[r.Requester], r)
	}
	return out, nil
}

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
	people, err := lookupPeople(ctx, s.db.DB, emails)
	if err != nil {
		return nil, err
	}
	history, err := s.recentRequests(ctx, emails)
	if err != nil {
		return nil, err
	}
	var holds []grants.Grant
	if len(emails) > 0 {
		err := s.db.WithContext(ctx).Where("user_email IN ? AND status = ?", emails, grants.GrantActive).Order("expires_at").Find(&holds).Error
		if err != nil {
			return nil, fmt.Errorf("reading requesters' active grants: %w", err)
		}
	}
	var groups []string
	for _, r := range reqs {
		if res, ok := cat.Resources[r.Resource]; ok && !slices.Contains(groups, res.Group) {
			groups = append(groups, res.Group)
		}
	}
	previews := s.policyPreviews(ctx, groups)

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
			if pv, ok := previews[res.Group]; ok {
				withMember := *pv
				withMember.Member = r.Requester
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
	var rows []grants.Request
	tx := s.db.WithContext(ctx).Where("status = ? AND resource IN ? AND requester <> ?", grants.RequestPending, page.Approves, p.Email)
	more, err := keysetPage(tx, before, &rows)
	if err != nil {
		return err
	}
	reqs := make([]*grants.Request, len(rows))
	ids := make([]int64, len(rows))
	for i := range rows {
		reqs[i], ids[i] = &rows[i], rows[i].ID
	}
	if err := s.attachDecisions(ctx, reqs, ids); err != nil {
		return err
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

// attachDecisions fills the decisions of reqs (whose ids are ids) in one
// query.
func (s *Server) attachDecisions(ctx context.Context, reqs []*grants.Request, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	var ds []grants.Approval
	if err := s.db.WithContext(ctx).Where("request_id IN ?", ids).Order("at, id").Find(&ds).Error; err != nil {
		return fmt.Errorf("reading decisions: %w", err)
	}
	for _, r := range reqs {
		for _, d := range ds {
			if d.RequestID == r.ID {
				r.Decisions = append(r.Decisions, d)
			}
		}
	}
	return nil
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
