package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// resourceResponse is one entry of GET /api/v1/resources. canRequest (an
// addition to the contract) says whether the caller is eligible.
type resourceResponse struct {
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	Group           string   `json:"group"`
	MaxDuration     string   `json:"maxDuration"`
	DefaultDuration string   `json:"defaultDuration"`
	RequireReason   bool     `json:"requireReason"`
	Eligible        []string `json:"eligible"`
	CanRequest      bool     `json:"canRequest"`
}

// apiResources lists every resource of the catalog, sorted by name, to
// anyone signed in: knowing what exists is how people ask for it.
func (s *Server) apiResources(c echo.Context) error {
	p, _ := person(c)
	cat := s.opts.Catalog()
	out := make([]resourceResponse, 0, len(cat.Resources))
	for _, name := range cat.ResourceNames() {
		r := cat.Resources[name]
		eligible := r.Eligible
		if eligible == nil {
			eligible = []string{}
		}
		out = append(out, resourceResponse{
			Name: name, Description: r.Description, Group: r.Group,
			MaxDuration: grants.FormatDuration(r.MaxDuration), DefaultDuration: grants.FormatDuration(r.DefaultDuration),
			RequireReason: r.RequireReason, Eligible: eligible, CanRequest: r.MayRequest(p),
		})
	}
	return c.JSON(http.StatusOK, out)
}
