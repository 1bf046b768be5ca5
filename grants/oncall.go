package grants

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// OnCallShift is a requester's current on-call shift.
type OnCallShift struct {
	// Schedule is the id of the schedule the person is on call in.
	Schedule string
	// End is when the shift ends; zero when it has no end.
	End time.Time
}

// OnCallChecker says who is on call now (PagerDuty, sync/pagerduty). An
// error means the service could not be asked: its message, one line, is
// shown as the request's pending reason.
type OnCallChecker interface {
	OnCall(ctx context.Context, email string, schedules []string) (shift OnCallShift, onCall bool, err error)
}

// onCallTimeout bounds one on-call lookup while a request is filed, so that
// filing answers within 5 s whatever the on-call service does.
const onCallTimeout = 4 * time.Second

// WithOnCall returns a store whose requests consult checker for resources
// with an onCall rule (nil: nobody is approved by on-call, such requests
// wait for approvers and say why).
func (s *Store) WithOnCall(checker OnCallChecker) *Store {
	out := *s
	out.onCall = checker
	return &out
}

// onCallApproval is how the on-call rule approves a request.
type onCallApproval struct {
	rule      string        // "onCall: pagerduty PABC123"
	schedules string        // the resource's schedules, comma-separated
	duration  time.Duration // the grant's length
}

// checkOnCall asks whether requester is on call in one of res's schedules.
// It returns the approval when they are, or why the request must wait for
// approvers when the rule could not decide ("" when they are simply not on
// call). d is the requested duration.
func (s *Store) checkOnCall(ctx context.Context, res Resource, requester string, d time.Duration, now time.Time) (*onCallApproval, string) {
	oc := res.OnCall
	if oc == nil || len(oc.PagerDutySchedules) == 0 {
		return nil, ""
	}
	if s.onCall == nil {
		return nil, "on-call approval is unavailable: PagerDuty is not configured (PAGERDUTY_API_TOKEN)"
	}
	ctx, cancel := context.WithTimeout(ctx, onCallTimeout)
	defer cancel()
	shift, onCall, err := s.onCall.OnCall(ctx, requester, oc.PagerDutySchedules)
	if err != nil {
		return nil, oneLine(err.Error())
	}
	if !onCall {
		return nil, ""
	}
	length := onCallDuration(*oc, shift, d, now)
	if length < time.Second {
		return nil, "" // the shift ends now
	}
	return &onCallApproval{
		rule:      "onCall: pagerduty " + shift.Schedule,
		schedules: strings.Join(oc.PagerDutySchedules, ","),
		duration:  length,
	}, ""
}

// onCallDuration is how long an on-call approval grants: the requested
// duration, capped by the rule's maxDuration and, with endWithShift, by the
// shift's end.
func onCallDuration(oc OnCall, shift OnCallShift, requested time.Duration, now time.Time) time.Duration {
	d := requested
	if oc.MaxDuration > 0 {
		d = min(d, oc.MaxDuration)
	}
	if oc.EndWithShift && !shift.End.IsZero() {
		d = min(d, shift.End.Sub(dbTime(now)))
	}
	return d
}

// oneLine joins a message's lines and spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// onCallSchedules splits a grant's recorded schedules.
func onCallSchedules(s string) []string {
	return slices.DeleteFunc(strings.Split(s, ","), func(id string) bool { return id == "" })
}

// EndOffCallGrants revokes the active grants approved by the on-call rule
// whose holder is no longer on call in any of the rule's schedules (taken
// off call early, an override), each audited with the reason. When the
// on-call service cannot be asked the grants keep running until their
// expiresAt; the error is returned after the others were checked.
func (s *Store) EndOffCallGrants(ctx context.Context, now time.Time) ([]Grant, error) {
	if s.onCall == nil {
		return nil, nil
	}
	var running []Grant
	err := s.db.WithContext(ctx).Where("status = ? AND on_call_schedules <> '' AND expires_at > ?", GrantActive, dbTime(now)).
		Order("id").Find(&running).Error
	if err != nil {
		return nil, fmt.Errorf("reading on-call grants: %w", err)
	}
	var ended []Grant
	var lookupErr error
	for _, g := range running {
		lctx, cancel := context.WithTimeout(ctx, onCallTimeout)
		_, onCall, err := s.onCall.OnCall(lctx, g.UserEmail, onCallSchedules(g.OnCallSchedules))
		cancel()
		if err != nil {
			lookupErr = fmt.Errorf("checking whether %s is still on call: %w", g.UserEmail, err)
			continue
		}
		if onCall {
			continue
		}
		revoked, err := s.endOffCallGrant(ctx, g, now)
		if err != nil {
			return ended, err
		}
		if revoked {
			ended = append(ended, g)
		}
	}
	return ended, lookupErr
}

// endOffCallGrant revokes one on-call grant whose holder left call, unless
// it ended or stopped depending on on-call meanwhile.
func (s *Store) endOffCallGrant(ctx context.Context, g Grant, now time.Time) (bool, error) {
	reason := "no longer on call in PagerDuty (" + strings.ReplaceAll(g.OnCallSchedules, ",", ", ") + ")"
	revoked := false
	err := inAuditedTx(ctx, s.db.DB, func(tx *gorm.DB) error {
		res := tx.Model(&Grant{}).Where("id = ? AND status = ? AND on_call_schedules = ?", g.ID, GrantActive, g.OnCallSchedules).
			Updates(map[string]any{"status": GrantRevoked, "revoked_by": "system", "revoke_reason": reason})
		if res.Error != nil {
			return fmt.Errorf("revoking on-call grant %d: %w", g.ID, res.Error)
		}
		if res.RowsAffected != 1 {
			return nil
		}
		revoked = true
		err := AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: "grant.revoke", Target: grantTarget(g.ID),
			Details: map[string]any{"reason": reason, "user": g.UserEmail, "resource": g.Resource, "group": g.GroupName,
				"rule": "onCall", "schedules": onCallSchedules(g.OnCallSchedules), "expiresAt": g.ExpiresAt.UTC()}})
		if err != nil {
			return err
		}
		return enqueue(tx, NotifyGrantRevoked, []string{g.UserEmail}, &g.ID, map[string]any{
			"grant": g.ID, "resource": g.Resource, "user": g.UserEmail, "by": "system", "reason": reason,
		}, now, now)
	})
	return revoked, err
}
