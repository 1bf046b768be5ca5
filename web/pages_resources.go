package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// Durations the catalog falls back to, as grants.ParseCatalog does, for a
// catalog built in code with zero durations.
const (
	fallbackMaxDuration     = 8 * time.Hour
	fallbackRequestDuration = time.Hour
)

// durationSteps are the durations offered on the request form, up to the
// resource's maximum (which is offered too, as is its default).
var durationSteps = []time.Duration{
	15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour,
	12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 72 * time.Hour, 7 * 24 * time.Hour,
}

// resourceView is a catalog resource as pages show it, with the signed-in
// person's standing towards it.
type resourceView struct {
	Name            string
	Description     string
	Group           string
	MaxDuration     string
	DefaultDuration string
	RequireReason   bool
	Eligible        []string
	Approvers       []string // empty: the portal admins
	Approvals       int
	// MayRequest says whether I may request it; AutoApproved whether my
	// request is approved at once (I am in an autoApprove group).
	MayRequest   bool
	AutoApproved bool
	// Grant is my active grant of it; PendingID my pending request's id.
	Grant     *grantView
	PendingID int64
}

func newResourceView(r grants.Resource, p *grants.Person) resourceView {
	maxD, defD := effectiveDurations(r)
	return resourceView{
		Name: r.Name, Description: r.Description, Group: r.Group,
		MaxDuration: grants.FormatDuration(maxD), DefaultDuration: grants.FormatDuration(defD),
		RequireReason: r.RequireReason, Eligible: r.Eligible, Approvers: r.Approvers, Approvals: max(r.Approvals, 1),
		MayRequest: r.MayRequest(p), AutoApproved: p.InAny(r.AutoApprove),
	}
}

// effectiveDurations are the resource's maximum and default durations with
// the catalog's fallbacks applied.
func effectiveDurations(r grants.Resource) (maxD, defD time.Duration) {
	maxD = r.MaxDuration
	if maxD <= 0 {
		maxD = fallbackMaxDuration
	}
	defD = r.DefaultDuration
	if defD <= 0 {
		defD = min(fallbackRequestDuration, maxD)
	}
	return maxD, defD
}

// resourcesPageData is the data of the catalog page.
type resourcesPageData struct {
	Flash string
	// Requestable are the resources I may request; Others the rest.
	Requestable []resourceView
	Others      []resourceView
}

// resourcesPage is the catalog: what I may request, for how long, and
// whether I already hold it or asked for it.
func (s *Server) resourcesPage(c echo.Context) error {
	p, _ := s.pagePerson(c)
	ctx := c.Request().Context()
	cat := s.opts.Catalog()
	active := true
	held, err := s.store.ListGrants(ctx, grants.GrantQuery{User: p.Email, Active: &active, Limit: len(cat.Resources) + pageSize})
	if err != nil {
		return err
	}
	pending, err := s.store.ListRequests(ctx, grants.RequestQuery{Requester: p.Email, Status: grants.RequestPending, Limit: len(cat.Resources) + pageSize})
	if err != nil {
		return err
	}
	page := resourcesPageData{Flash: s.popFlash(c)}
	for _, name := range cat.ResourceNames() {
		v := newResourceView(cat.Resources[name], p)
		for i := range held {
			if held[i].Resource == name {
				g := s.newGrantView(&held[i])
				v.Grant = &g
			}
		}
		for _, r := range pending {
			if r.Resource == name {
				v.PendingID = r.ID
			}
		}
		if v.MayRequest {
			page.Requestable = append(page.Requestable, v)
		} else {
			page.Others = append(page.Others, v)
		}
	}
	return s.render(c, http.StatusOK, "resources.html", page)
}

// durationChoice is one option of the duration select.
type durationChoice struct {
	Value    string
	Label    string
	Selected bool
}

// durationChoices are the durations offered for r, shortest first, with
// selected (or else the default) chosen.
func durationChoices(r grants.Resource, selected time.Duration) []durationChoice {
	maxD, defD := effectiveDurations(r)
	if selected <= 0 || selected > maxD {
		selected = defD
	}
	var ds []time.Duration
	for _, d := range durationSteps {
		if d <= maxD {
			ds = append(ds, d)
		}
	}
	ds = append(ds, maxD, defD, selected)
	slices.Sort(ds)
	ds = slices.Compact(ds)
	out := make([]durationChoice, 0, len(ds))
	for _, d := range ds {
		label := grants.FormatDuration(d)
		switch d {
		case defD:
			label += " (default)"
		case maxD:
			label += " (maximum)"
		}
		out = append(out, durationChoice{Value: grants.FormatDuration(d), Label: label, Selected: d == selected})
	}
	return out
}

// requestFormPage is the data of the request form.
type requestFormPage struct {
	Resource resourceView
	Choices  []durationChoice
	Reason   string
	// Error is why the last submission was refused.
	Error string
}

// requestForm shows the form to request one resource.
func (s *Server) requestForm(c echo.Context) error {
	p, _ := s.pagePerson(c)
	res, err := s.requestableResource(c, p)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "request_form.html", requestFormPage{
		Resource: newResourceView(res, p), Choices: durationChoices(res, 0),
	})
}

// requestableResource is the resource named in the path, which p may
// request: 404 for an unknown one, 403 saying who may request it otherwise.
func (s *Server) requestableResource(c echo.Context, p *grants.Person) (grants.Resource, error) {
	name := c.Param("name")
	res, ok := s.opts.Catalog().Resources[name]
	if !ok {
		return res, httpError(http.StatusNotFound, "there is no resource "+strconv.Quote(name)+" in the catalog")
	}
	if !res.MayRequest(p) {
		return res, httpError(http.StatusForbidden, fmt.Sprintf("%s may be requested only by members of %s", res.Name, strings.Join(res.Eligible, ", ")))
	}
	return res, nil
}

// submitRequest files the request of the form. A refusal shows the form
// again with the reason and the typed values; success goes to the request.
func (s *Server) submitRequest(c echo.Context) error {
	p, _ := s.pagePerson(c)
	res, err := s.requestableResource(c, p)
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	d, err := parseDuration(c.FormValue("duration"))
	if err == nil {
		var req *grants.Request
		req, err = s.store.CreateRequest(c.Request().Context(), s.opts.Catalog(), p,
			grants.RequestInput{Resource: res.Name, Duration: d, Reason: reason}, s.now())
		if err == nil {
			s.wake()
			s.flash(c, requestFiledMessage(req))
			return c.Redirect(http.StatusSeeOther, "/requests/"+strconv.FormatInt(req.ID, 10))
		}
	}
	code, msg, ok := clientError(err)
	if !ok {
		return err
	}
	return s.render(c, code, "request_form.html", requestFormPage{
		Resource: newResourceView(res, p), Choices: durationChoices(res, d), Reason: reason, Error: msg,
	})
}

// requestFiledMessage tells the requester what happened to a new request.
func requestFiledMessage(req *grants.Request) string {
	what := fmt.Sprintf("Request #%d for %s (%s)", req.ID, req.Resource, grants.FormatDuration(req.Duration()))
	if req.Status == grants.RequestApproved && req.Grant != nil {
		return what + " was approved at once; your access lasts until " + showTime(req.Grant.ExpiresAt) + "."
	}
	return what + " was sent to the approvers."
}
