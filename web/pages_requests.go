package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// myRequestsPageData is the data of "My requests".
type myRequestsPageData struct {
	Flash    string
	Status   string   // the status filter; "" = all
	Statuses []string // the filter's choices
	Requests []requestView
	Pager    pager
}

// myRequestsPage lists the signed-in person's requests, newest first, one
// page at a time, optionally of one status.
func (s *Server) myRequestsPage(c echo.Context) error {
	p, _ := s.pagePerson(c)
	before, err := beforeParam(c)
	if err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status != "" && !slices.Contains(grants.RequestStatuses, status) {
		return httpError(http.StatusBadRequest, "status must be one of the listed statuses, not "+strconv.Quote(status))
	}
	rows, more, err := s.store.RequestsOf(c.Request().Context(), p.Email, status, grants.Page{Before: before, Size: pageSize})
	if err != nil {
		return err
	}
	page := myRequestsPageData{Flash: s.popFlash(c), Status: status, Statuses: grants.RequestStatuses}
	var last int64
	for i := range rows {
		page.Requests = append(page.Requests, s.newRequestView(&rows[i]))
		last = rows[i].ID
	}
	page.Pager = newPager(c.Request().URL, before, last, more)
	return s.render(c, http.StatusOK, "requests.html", page)
}

// requestPageData is the data of one request's page.
type requestPageData struct {
	Flash string
	// Error is why the last action on this page was refused.
	Error     string
	Request   requestView
	Requester requesterView
	// Resource is the catalog entry; nil when it left the catalog.
	Resource  *resourceView
	Approvals int // approving decisions so far
	Needed    int // approvals the resource needs
	MayCancel bool
	// Decide is the approver's view while the request waits for them.
	Decide *decisionItem
}

// requestPage shows a request to its requester, its approvers and the
// admins; others get 404, as for a request that does not exist.
func (s *Server) requestPage(c echo.Context) error {
	return s.showRequest(c, http.StatusOK, "", "")
}

// showRequest renders the request of the path, with an error message and
// the typed comment after a refused action.
func (s *Server) showRequest(c echo.Context, code int, errMsg, comment string) error {
	p, admin := s.pagePerson(c)
	id, err := idParam(c, "request")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cat := s.opts.Catalog()
	req, err := s.store.GetRequest(ctx, id)
	if err != nil {
		return err
	}
	if !cat.MayView(p, req) {
		return httpError(http.StatusNotFound, "no request "+strconv.FormatInt(id, 10))
	}
	page := requestPageData{
		Flash: s.popFlash(c), Error: errMsg, Request: s.newRequestView(req),
		MayCancel: req.Requester == p.Email && req.Status == grants.RequestPending,
	}
	for _, d := range req.Decisions {
		if d.Decision == grants.DecisionApprove {
			page.Approvals++
		}
	}
	page.Needed = 1
	if res, ok := cat.Resources[req.Resource]; ok {
		v := newResourceView(res, p)
		page.Resource = &v
		page.Needed = v.Approvals
	}
	people, err := s.store.LookupPeople(ctx, []string{req.Requester})
	if err != nil {
		return err
	}
	page.Requester = newRequesterView(req.Requester, people[req.Requester])
	if req.Status == grants.RequestPending && req.Requester != p.Email {
		items, err := s.decisionItems(ctx, p, admin, []*grants.Request{req}, c.Request().URL.Path)
		if err != nil {
			return err
		}
		if items[0].MayApprove || items[0].MayDeny {
			items[0].Comment = comment
			page.Decide = &items[0]
		}
	}
	return s.render(c, code, "request.html", page)
}

// cancelRequestForm withdraws the signed-in person's pending request.
func (s *Server) cancelRequestForm(c echo.Context) error {
	p, _ := s.pagePerson(c)
	id, err := idParam(c, "request")
	if err != nil {
		return err
	}
	req, err := s.store.CancelRequest(c.Request().Context(), s.opts.Catalog(), id, p, s.now())
	if err != nil {
		return s.refusedOnRequestPage(c, err, "")
	}
	s.wake()
	s.flash(c, fmt.Sprintf("Request #%d for %s was cancelled.", req.ID, req.Resource))
	return localRedirect(c, c.FormValue("next"), "/requests/"+strconv.FormatInt(req.ID, 10))
}

// approveRequestForm records the signed-in approver's approval.
func (s *Server) approveRequestForm(c echo.Context) error {
	return s.decideRequestForm(c, (*grants.Store).ApproveRequest)
}

// denyRequestForm records the signed-in approver's denial.
func (s *Server) denyRequestForm(c echo.Context) error {
	return s.decideRequestForm(c, (*grants.Store).DenyRequest)
}

func (s *Server) decideRequestForm(c echo.Context, decide decideFunc) error {
	p, _ := s.pagePerson(c)
	id, err := idParam(c, "request")
	if err != nil {
		return err
	}
	comment := c.FormValue("comment")
	req, err := decide(s.store, c.Request().Context(), s.opts.Catalog(), id, p, comment, s.now())
	if err != nil {
		return s.refusedOnRequestPage(c, err, comment)
	}
	s.wake()
	s.flash(c, decisionMessage(req, p.Email))
	return localRedirect(c, c.FormValue("next"), "/requests/"+strconv.FormatInt(req.ID, 10))
}

// refusedOnRequestPage shows a refused action's reason on the request's
// page, with the refusal's status; other errors stay errors.
func (s *Server) refusedOnRequestPage(c echo.Context, err error, comment string) error {
	code, msg, ok := clientError(err)
	if !ok {
		return err
	}
	if code == http.StatusNotFound {
		return err
	}
	return s.showRequest(c, code, msg, comment)
}

// decisionMessage tells an approver what their decision did.
func decisionMessage(req *grants.Request, by string) string {
	who := fmt.Sprintf("request #%d (%s, %s for %s)", req.ID, req.Requester, req.Resource, grants.FormatDuration(req.Duration()))
	switch req.Status {
	case grants.RequestDenied:
		return "You denied " + who + "."
	case grants.RequestApproved:
		msg := "You approved " + who + "."
		if req.Grant != nil {
			msg += " The access lasts until " + showTime(req.Grant.ExpiresAt) + "; the tailnet gets it within seconds."
		}
		return msg
	}
	return "Your approval of " + who + " was recorded; it needs more approvals."
}
