package web

import (
	"fmt"
	"net/http"
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
