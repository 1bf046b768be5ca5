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

// requestFiledMessage tells the requester what happened to a new request.
func requestFiledMessage(req *grants.Request) string {
	what := fmt.Sprintf("Request #%d for %s (%s)", req.ID, req.Resource, grants.FormatDuration(req.Duration()))
	if req.Status == grants.RequestApproved && req.Grant != nil {
		return what + " was approved at once; your access lasts until " + showTime(req.Grant.ExpiresAt) + "."
	}
	return what + " was sent to the approvers."
}
