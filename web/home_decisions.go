package web

import (
	"context"
	"time"

	"github.com/accessportal/portal/grants"
)

// recentDenialWindow is how long a denial stays on the requester's home page.
const recentDenialWindow = 7 * 24 * time.Hour

// homeDecisions fills the parts of the home page about decisions: the
// requests waiting for p's decision (and their count), and p's own requests
// denied lately, with the approver's comment.
func (s *Server) homeDecisions(ctx context.Context, p *grants.Person, page *homePage) error {
	resources := s.opts.Catalog().ApprovableResources(p)
	awaiting, err := s.store.AwaitingDecision(ctx, resources, p.Email, pageSize)
	if err != nil {
		return err
	}
	if page.AwaitingCount, err = s.store.CountAwaitingDecision(ctx, resources, p.Email); err != nil {
		return err
	}
	for _, r := range awaiting {
		page.Awaiting = append(page.Awaiting, s.newRequestView(r))
	}
	denied, _, err := s.store.RequestsOf(ctx, p.Email, grants.RequestDenied, grants.Page{Size: 5})
	if err != nil {
		return err
	}
	for i := range denied {
		if r := &denied[i]; r.DecidedAt != nil && s.now().Sub(*r.DecidedAt) < recentDenialWindow {
			page.Denied = append(page.Denied, s.newRequestView(r))
		}
	}
	return nil
}
