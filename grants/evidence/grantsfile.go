package evidence

import (
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strings"
	"time"
)

// GrantsHeader is the first row of grants.csv.
var GrantsHeader = []string{
	"id", "requester", "reason", "approvers", "requested", "approved", "applied", "expires", "removed", "revoked_by",
	"seconds_approval_to_applied", "seconds_expiry_to_removed",
	"resource", "group", "status", "starts", "revoked", "revoke_reason", "seconds_revocation_to_removed", "kind",
}

// grantStats is what the report says about grants.
type grantStats struct {
	Count, WithReason, ByRequest, AutoApproved, Direct int64
	// SelfApproved counts grants whose requester is among the approvers.
	SelfApproved    int64
	NotApplied      int64
	Revoked         int64
	LongestSeconds  float64
	ApprovalApplied histogram
	ExpiryRemoved   histogram
	RevokeRemoved   histogram
	Late            []lateGrant
	LateCount       int64
	Sample          []grantRow
	approvers       map[string]int64
	resources       map[string]int64
}

// lateGrant is a grant that stayed in the policy past its end.
type lateGrant struct {
	ID               int64
	User, Resource   string
	End              time.Time
	Removed, Overdue string
}

// grantRow is a grant as the report's table shows it.
type grantRow struct {
	ID                                    int64
	User, Resource, Reason                string
	Approvers                             []string
	Approved, Expires, Removed, RevokedBy string
}

// distinctCap bounds the people and resources counted one by one.
const distinctCap = 10000

func countKey(m map[string]int64, k string) {
	if _, ok := m[k]; ok || len(m) < distinctCap {
		m[k]++
		return
	}
	m["(others)"]++
}

func (s *grantStats) add(g *GrantRecord, r *report) {
	s.Count++
	if strings.TrimSpace(g.Reason) != "" {
		s.WithReason++
	}
	switch {
	case g.Direct:
		s.Direct++
	case g.AutoApproved:
		s.AutoApproved++
	default:
		s.ByRequest++
	}
	if !g.Direct && slices.Contains(g.Approvers, g.UserEmail) {
		s.SelfApproved++
	}
	for _, a := range g.Approvers {
		countKey(s.approvers, a)
	}
	countKey(s.resources, g.Resource)
	s.LongestSeconds = max(s.LongestSeconds, g.ExpiresAt.Sub(g.StartsAt).Seconds())
	if g.AppliedAt != nil && g.Approved != nil {
		s.ApprovalApplied.add(g.AppliedAt.Sub(*g.Approved).Seconds())
	} else if g.AppliedAt == nil && g.Status == "active" {
		s.NotApplied++
	}
	if g.RevokedAt != nil {
		s.Revoked++
	}
	if g.RemovedAt != nil {
		if g.RevokedAt != nil && g.RevokedAt.Before(g.ExpiresAt) {
			s.RevokeRemoved.add(g.RemovedAt.Sub(*g.RevokedAt).Seconds())
		} else if !g.RemovedAt.Before(g.ExpiresAt) || g.Status == "expired" {
			s.ExpiryRemoved.add(g.RemovedAt.Sub(g.ExpiresAt).Seconds())
		}
	}
	s.checkLate(g, r)
	if len(s.Sample) < r.limit {
		s.Sample = append(s.Sample, grantRow{ID: g.ID, User: g.UserEmail, Resource: g.Resource, Reason: g.Reason,
			Approvers: g.Approvers, Approved: reportTime(g.Approved), Expires: reportTime(&g.ExpiresAt),
			Removed: reportTime(g.RemovedAt), RevokedBy: g.RevokedBy})
	}
}

// checkLate lists a grant whose removal came more than the grace after
// its end, or has not come although it is due.
func (s *grantStats) checkLate(g *GrantRecord, r *report) {
	end := g.End()
	if !end.Before(r.Until) {
		return // ends after the period: the next period's evidence
	}
	due := end.Add(r.grace)
	var late bool
	overdue := ""
	switch {
	case g.RemovedAt != nil:
		late = g.RemovedAt.After(due)
		overdue = formatSeconds(g.RemovedAt.Sub(end).Seconds()) + " after its end"
	default:
		late = due.Before(r.GeneratedAt)
		overdue = "not removed as of " + r.GeneratedAt.Format("2006-01-02 15:04 UTC")
	}
	if !late {
		return
	}
	s.LateCount++
	if len(s.Late) < r.limit {
		s.Late = append(s.Late, lateGrant{ID: g.ID, User: g.UserEmail, Resource: g.Resource, End: end,
			Removed: reportTime(g.RemovedAt), Overdue: overdue})
	}
}

func (p *Packet) writeGrants(ctx context.Context, w io.Writer, r *report) error {
	cw := csvWriter{csv.NewWriter(w)}
	if err := cw.row(slices.Clone(GrantsHeader)...); err != nil {
		return err
	}
	for g, err := range p.Store.Grants(ctx, r.Since, r.Until) {
		if err != nil {
			return err
		}
		r.Grants.add(g, r)
		var fromExpiry, fromRevocation string
		if g.RevokedAt != nil && g.RevokedAt.Before(g.ExpiresAt) {
			fromRevocation = secondsCell(g.RevokedAt, g.RemovedAt)
		} else {
			fromExpiry = secondsCell(&g.ExpiresAt, g.RemovedAt)
		}
		err := cw.row(formatInt(g.ID), g.UserEmail, g.Reason, strings.Join(g.Approvers, " "), timeCell(g.Requested),
			timeCell(g.Approved), timeCell(g.AppliedAt), timeCell(&g.ExpiresAt), timeCell(g.RemovedAt), g.RevokedBy,
			secondsCell(g.Approved, g.AppliedAt), fromExpiry,
			g.Resource, g.GroupName, g.Status, timeCell(&g.StartsAt), timeCell(g.RevokedAt), g.RevokeReason, fromRevocation, grantKind(g))
		if err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func grantKind(g *GrantRecord) string {
	switch {
	case g.Direct:
		return "direct"
	case g.AutoApproved:
		return "auto-approved"
	}
	return "request"
}

// OffboardingsHeader is the first row of offboardings.csv.
var OffboardingsHeader = []string{
	"id", "email", "okta_user_id", "okta_status", "okta_event", "event_published", "event_received", "started",
	"policy_confirmed", "ended", "grants_revoked", "requests_cancelled", "sessions_deleted", "tokens_disabled",
	"seconds_event_to_removed", "detected_by",
}

// offboardStats is what the report says about offboardings.
type offboardStats struct {
	Count, ByHook, Open, GrantsRevoked, Sessions, Tokens int64
	EventRemoved                                         histogram
	List                                                 []offboardRow
}

type offboardRow struct {
	Email, Status, Detected, Confirmed, Took string
	Grants                                   int
}

func (s *offboardStats) add(o *OffboardingRecord, limit int) {
	s.Count++
	if o.EventUUID != "" {
		s.ByHook++
	}
	s.GrantsRevoked += int64(o.GrantsRevoked)
	s.Sessions += int64(o.SessionsDeleted)
	s.Tokens += int64(o.TokensDisabled)
	detected := o.Detected()
	took := ""
	if o.PolicyConfirmedAt != nil {
		sec := o.PolicyConfirmedAt.Sub(detected).Seconds()
		s.EventRemoved.add(sec)
		took = formatSeconds(max(sec, 0))
	} else {
		s.Open++
		took = "not confirmed yet"
	}
	if len(s.List) < limit {
		s.List = append(s.List, offboardRow{Email: o.Email, Status: o.OktaStatus, Detected: reportSeconds(&detected),
			Confirmed: reportSeconds(o.PolicyConfirmedAt), Took: took, Grants: o.GrantsRevoked})
	}
}

func (p *Packet) writeOffboardings(ctx context.Context, w io.Writer, r *report) error {
	cw := csvWriter{csv.NewWriter(w)}
	if err := cw.row(slices.Clone(OffboardingsHeader)...); err != nil {
		return err
	}
	for o, err := range p.Store.Offboardings(ctx, r.Since, r.Until) {
		if err != nil {
			return err
		}
		r.Offboard.add(o, r.limit)
		detectedBy := "poll"
		if o.EventUUID != "" {
			detectedBy = "event hook"
		}
		detected := o.Detected()
		err := cw.row(formatInt(o.ID), o.Email, o.OktaUserID, o.OktaStatus, o.EventUUID, timeCell(o.EventPublished),
			timeCell(o.EventReceivedAt), timeCell(&o.StartedAt), timeCell(o.PolicyConfirmedAt), timeCell(o.EndedAt),
			itoa(o.GrantsRevoked), itoa(o.RequestsCancelled), itoa(o.SessionsDeleted), itoa(o.TokensDisabled),
			secondsCell(&detected, o.PolicyConfirmedAt), detectedBy)
		if err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func itoa(n int) string { return formatInt(int64(n)) }

// reportTime is a time as the report prints it, or "—".
func reportTime(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// reportSeconds is reportTime to the second.
func reportSeconds(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}
