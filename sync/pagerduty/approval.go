package pagerduty

import (
	"context"

	"github.com/accessportal/portal/grants"
)

// Approver is the client as the on-call rule of requests sees it
// ([grants.OnCallChecker]): whether a requester is on call now, in which
// schedule, and until when.
type Approver struct{ Client *Client }

// OnCall reports whether the person with this email is on call now in one
// of the schedules, and their shift; an error is one line saying why
// PagerDuty could not be asked.
func (a Approver) OnCall(ctx context.Context, email string, schedules []string) (grants.OnCallShift, bool, error) {
	s, onCall, err := a.Client.OnCall(ctx, email, schedules)
	if err != nil || !onCall {
		return grants.OnCallShift{}, false, err
	}
	return grants.OnCallShift{Schedule: s.ScheduleID, End: s.End}, true, nil
}
