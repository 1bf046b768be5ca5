package grants

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// awaitingDecision selects the pending requests for resources that someone
// other than approver made and that approver has not decided yet. Whether
// approver decided is looked up per pending request on the approvals'
// (request_id, approver) key rather than by reading every decision of
// approver's, hundreds of thousands for a busy admin. It is a count, not
// NOT EXISTS, which PostgreSQL may turn into a merge anti-join that reads
// them all anyway (30 ms for 49,000 decisions).
func (s *Store) awaitingDecision(ctx context.Context, resources []string, approver string) *gorm.DB {
	return s.db.WithContext(ctx).Model(&Request{}).
		Where("status = ? AND resource IN ? AND requester <> ?", RequestPending, resources, approver).
		Where("(SELECT COUNT(*) FROM approvals a WHERE a.request_id = requests.id AND a.approver = ?) = 0", approver)
}

// AwaitingDecision reads, newest first, at most limit (0: 500) pending
// requests for resources (those approver may approve now) that someone
// else made and that approver has not approved yet, with their decisions.
func (s *Store) AwaitingDecision(ctx context.Context, resources []string, approver string, limit int) ([]*Request, error) {
	out := []*Request{}
	if len(resources) == 0 {
		return out, nil
	}
	if limit <= 0 {
		limit = 500
	}
	var rows []Request
	if err := s.awaitingDecision(ctx, resources, approver).Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("reading requests waiting for %s: %w", approver, err)
	}
	for i := range rows {
		out = append(out, &rows[i])
	}
	if err := loadRequestDetails(ctx, s.db.DB, out); err != nil {
		return nil, err
	}
	return out, nil
}

// CountAwaitingDecisionUpTo counts what AwaitingDecision would list, but
// stops at limit: every page's navigation shows the count, as "99+" past
// 99, and need not visit every pending request for it.
func (s *Store) CountAwaitingDecisionUpTo(ctx context.Context, resources []string, approver string, limit int) (int64, error) {
	if len(resources) == 0 {
		return 0, nil
	}
	var n int64
	some := s.awaitingDecision(ctx, resources, approver).Select("1").Limit(limit)
	if err := s.db.WithContext(ctx).Table("(?) AS awaiting", some).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("counting requests waiting for %s: %w", approver, err)
	}
	return n, nil
}

// CountAwaitingDecision counts what AwaitingDecision would list.
func (s *Store) CountAwaitingDecision(ctx context.Context, resources []string, approver string) (int64, error) {
	if len(resources) == 0 {
		return 0, nil
	}
	var n int64
	if err := s.awaitingDecision(ctx, resources, approver).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("counting requests waiting for %s: %w", approver, err)
	}
	return n, nil
}
