package grants

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"
)

// GetRequest reads one request with its decisions and grant.
func (s *Store) GetRequest(ctx context.Context, id int64) (*Request, error) {
	db := s.db.DB
	var req Request
	err := db.WithContext(ctx).Where("id = ?", id).Take(&req).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, noSuchRequest(id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading request %d: %w", id, err)
	}
	reqs := []*Request{&req}
	if err := loadRequestDetails(ctx, db, reqs); err != nil {
		return nil, err
	}
	return &req, nil
}

// RequestQuery selects requests for ListRequests.
type RequestQuery struct {
	// Status keeps only requests with this status; "" keeps all.
	Status string
	// All lists everybody's requests (admins). Otherwise only Requester's
	// requests and those for Resources are listed.
	All       bool
	Requester string
	Resources []string
	// Limit caps the answer (newest first); 0 means 500.
	Limit int
}

// ListRequests lists requests newest first, with their decisions and grants.
func (s *Store) ListRequests(ctx context.Context, q RequestQuery) ([]*Request, error) {
	db := s.db.DB
	if q.Limit <= 0 {
		q.Limit = 500
	}
	tx := db.WithContext(ctx).Model(&Request{})
	if !q.All {
		if len(q.Resources) > 0 {
			tx = tx.Where("requester = ? OR resource IN ?", q.Requester, q.Resources)
		} else {
			tx = tx.Where("requester = ?", q.Requester)
		}
	}
	if q.Status != "" {
		tx = tx.Where("status = ?", q.Status)
	}
	var rows []Request
	if err := tx.Order("created_at DESC, id DESC").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("listing requests: %w", err)
	}
	out := make([]*Request, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	if err := loadRequestDetails(ctx, db, out); err != nil {
		return nil, err
	}
	return out, nil
}

// loadRequestDetails fills the decisions and grants of reqs, two queries in
// all.
func loadRequestDetails(ctx context.Context, db *gorm.DB, reqs []*Request) error {
	if len(reqs) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(reqs))
	var grantIDs []int64
	byID := make(map[int64]*Request, len(reqs))
	for _, r := range reqs {
		ids = append(ids, r.ID)
		byID[r.ID] = r
		r.Decisions = nil
		if r.GrantID != nil {
			grantIDs = append(grantIDs, *r.GrantID)
		}
	}
	for chunk := range slices.Chunk(ids, 500) {
		var decisions []Approval
		if err := db.WithContext(ctx).Where("request_id IN ?", chunk).Order("at, id").Find(&decisions).Error; err != nil {
			return fmt.Errorf("reading decisions: %w", err)
		}
		for _, a := range decisions {
			byID[a.RequestID].Decisions = append(byID[a.RequestID].Decisions, a)
		}
	}
	grantsByID := map[int64]*Grant{}
	for chunk := range slices.Chunk(grantIDs, 500) {
		var gs []Grant
		if err := db.WithContext(ctx).Where("id IN ?", chunk).Find(&gs).Error; err != nil {
			return fmt.Errorf("reading grants: %w", err)
		}
		for i := range gs {
			grantsByID[gs[i].ID] = &gs[i]
		}
	}
	for _, r := range reqs {
		if r.GrantID != nil {
			r.Grant = grantsByID[*r.GrantID]
		}
	}
	return nil
}

// RequestsOf reads one page of requester's requests, newest first, with
// their grants; status "" means any status.
func (s *Store) RequestsOf(ctx context.Context, requester, status string, p Page) (reqs []Request, more bool, err error) {
	tx := s.db.WithContext(ctx).Where("requester = ?", requester)
	if status != "" {
		tx = tx.Where("status = ?", status)
	}
	if more, err = keysetPage(tx, p, &reqs); err != nil {
		return nil, false, fmt.Errorf("reading %s's requests: %w", requester, err)
	}
	if err := s.loadDetails(ctx, reqs); err != nil {
		return nil, false, err
	}
	return reqs, more, nil
}

// PendingRequestsFor reads one page of the pending requests for resources
// that someone other than approver made, newest first, with their decisions and grants.
func (s *Store) PendingRequestsFor(ctx context.Context, resources []string, approver string, p Page) (reqs []Request, more bool, err error) {
	tx := s.db.WithContext(ctx).Where("status = ? AND resource IN ? AND requester <> ?", RequestPending, resources, approver)
	if more, err = keysetPage(tx, p, &reqs); err != nil {
		return nil, false, fmt.Errorf("reading pending requests: %w", err)
	}
	if err := s.loadDetails(ctx, reqs); err != nil {
		return nil, false, err
	}
	return reqs, more, nil
}

// RecentDecidedRequests reads, per requester, their last n decided
// requests (one query), newest first, with their decisions and grants.
func (s *Store) RecentDecidedRequests(ctx context.Context, requesters []string, n int) (map[string][]Request, error) {
	out := map[string][]Request{}
	if len(requesters) == 0 {
		return out, nil
	}
	var rows []Request
	err := s.db.WithContext(ctx).Raw(`SELECT id, resource, requester, duration_seconds, reason, status, created_at, decided_at, grant_id, auto_approved_rule, extends_grant_id
FROM (SELECT id, resource, requester, duration_seconds, reason, status, created_at, decided_at, grant_id, auto_approved_rule, extends_grant_id,
             ROW_NUMBER() OVER (PARTITION BY requester ORDER BY id DESC) AS n
      FROM requests WHERE requester IN ? AND status <> ?) recent
WHERE n <= ? ORDER BY requester, id DESC`, requesters, RequestPending, n).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("reading requesters' history: %w", err)
	}
	if err := s.loadDetails(ctx, rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.Requester] = append(out[r.Requester], r)
	}
	return out, nil
}

// loadDetails fills the decisions and grants of reqs, two queries in all.
func (s *Store) loadDetails(ctx context.Context, reqs []Request) error {
	ptrs := make([]*Request, len(reqs))
	for i := range reqs {
		ptrs[i] = &reqs[i]
	}
	return loadRequestDetails(ctx, s.db.DB, ptrs)
}

// PendingRequestsPage reads one page of at most size pending requests,
// oldest first, after the request with id after; resource keeps one
// resource's requests, requester those whose requester's email contains
// it. The requests carry their approvals (not denials).
func (s *Store) PendingRequestsPage(ctx context.Context, requester, resource string, after int64, size int) ([]Request, bool, error) {
	db := s.db.WithContext(ctx)
	tx := db.Model(&Request{}).Where("status = ?", RequestPending)
	if resource != "" {
		tx = tx.Where("resource = ?", resource)
	}
	if requester != "" {
		tx = tx.Where(`requester LIKE ? ESCAPE '\'`, likeContains(requester))
	}
	if after > 0 {
		tx = tx.Where("id > ?", after)
	}
	var rows []Request
	if err := tx.Order("id").Limit(size + 1).Find(&rows).Error; err != nil {
		return nil, false, fmt.Errorf("listing pending requests: %w", err)
	}
	more := len(rows) > size
	rows = rows[:min(len(rows), size)]
	if len(rows) == 0 {
		return rows, more, nil
	}
	ids := make([]int64, len(rows))
	byID := make(map[int64]*Request, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
		byID[rows[i].ID] = &rows[i]
	}
	var approvals []Approval
	if err := db.Where("request_id IN ? AND decision = ?", ids, DecisionApprove).Order("at, id").Find(&approvals).Error; err != nil {
		return nil, false, fmt.Errorf("reading approvals: %w", err)
	}
	for _, a := range approvals {
		byID[a.RequestID].Decisions = append(byID[a.RequestID].Decisions, a)
	}
	return rows, more, nil
}
