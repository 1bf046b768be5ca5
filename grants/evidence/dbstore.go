package evidence

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/accessportal/portal/grants"
)

// batchSize is how many rows one query of a DBStore reads.
const batchSize = 1000

// DBStore reads a packet's data from the portal's database in keyset
// batches.
type DBStore struct {
	DB *gorm.DB
	// Batch is how many rows each query reads (default 1000).
	Batch int
}

// NewDBStore reads from db.
func NewDBStore(db *gorm.DB) *DBStore { return &DBStore{DB: db} }

func (s *DBStore) batch() int {
	if s.Batch > 0 {
		return s.Batch
	}
	return batchSize
}

// AuditBounds implements Store.
func (s *DBStore) AuditBounds(ctx context.Context, since, until time.Time) (int64, int64, error) {
	var b struct{ First, Last sql.NullInt64 }
	err := s.DB.WithContext(ctx).Model(&grants.AuditEvent{}).Select("MIN(id) AS first, MAX(id) AS last").
		Where("at >= ? AND at < ?", dbTime(since), dbTime(until)).Scan(&b).Error
	if err != nil {
		return 0, 0, fmt.Errorf("reading the period's audit events: %w", err)
	}
	return b.First.Int64, b.Last.Int64, nil
}

// AuditEvents implements Store.
func (s *DBStore) AuditEvents(ctx context.Context, afterID, throughID int64) iter.Seq2[*grants.AuditEvent, error] {
	return func(yield func(*grants.AuditEvent, error) bool) {
		last := afterID
		rows := make([]grants.AuditEvent, 0, s.batch())
		for last < throughID {
			rows = rows[:0]
			err := s.DB.WithContext(ctx).Where("id > ? AND id <= ?", last, throughID).Order("id").Limit(s.batch()).Find(&rows).Error
			if err != nil {
				yield(nil, fmt.Errorf("reading audit events after %d: %w", last, err))
				return
			}
			for i := range rows {
				if !yield(&rows[i], nil) {
					return
				}
			}
			if len(rows) < s.batch() {
				return
			}
			last = rows[len(rows)-1].ID
		}
	}
}

// Grants implements Store.
func (s *DBStore) Grants(ctx context.Context, since, until time.Time) iter.Seq2[*GrantRecord, error] {
	return func(yield func(*GrantRecord, error) bool) {
		var last int64
		for {
			var gs []grants.Grant
			err := s.DB.WithContext(ctx).Where("id > ? AND starts_at < ? AND (removed_at IS NULL OR removed_at >= ?)", last, dbTime(until), dbTime(since)).
				Order("id").Limit(s.batch()).Find(&gs).Error
			if err != nil {
				yield(nil, fmt.Errorf("reading grants after %d: %w", last, err))
				return
			}
			recs, err := s.describeGrants(ctx, gs)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range recs {
				if !yield(r, nil) {
					return
				}
			}
			if len(gs) < s.batch() {
				return
			}
			last = gs[len(gs)-1].ID
		}
	}
}

// describeGrants adds to one batch of grants their requests, approvers and
// revocations, in three queries.
func (s *DBStore) describeGrants(ctx context.Context, gs []grants.Grant) ([]*GrantRecord, error) {
	if len(gs) == 0 {
		return nil, nil
	}
	db := s.DB.WithContext(ctx)
	var reqIDs []int64
	targets := make([]string, len(gs))
	for i, g := range gs {
		if g.RequestID != nil {
			reqIDs = append(reqIDs, *g.RequestID)
		}
		targets[i] = "grant:" + strconv.FormatInt(g.ID, 10)
	}
	requests := map[int64]grants.Request{}
	approvers := map[int64][]string{}
	if len(reqIDs) > 0 {
		var rs []grants.Request
		if err := db.Where("id IN ?", reqIDs).Find(&rs).Error; err != nil {
			return nil, fmt.Errorf("reading the grants' requests: %w", err)
		}
		for _, r := range rs {
			requests[r.ID] = r
		}
		var as []grants.Approval
		if err := db.Where("request_id IN ? AND decision = ?", reqIDs, grants.DecisionApprove).Order("at, id").Find(&as).Error; err != nil {
			return nil, fmt.Errorf("reading the grants' approvals: %w", err)
		}
		for _, a := range as {
			approvers[a.RequestID] = append(approvers[a.RequestID], a.Approver)
		}
	}
	var revokes []grants.AuditEvent
	if err := db.Select("target", "at").Where("action = ? AND target IN ?", "grant.revoke", targets).Order("id").Find(&revokes).Error; err != nil {
		return nil, fmt.Errorf("reading the grants' revocations: %w", err)
	}
	revokedAt := map[string]time.Time{}
	for _, e := range revokes {
		if _, seen := revokedAt[e.Target]; !seen {
			revokedAt[e.Target] = e.At.UTC()
		}
	}
	out := make([]*GrantRecord, len(gs))
	for i, g := range gs {
		out[i] = grantRecord(g, requests, approvers, revokedAt[targets[i]])
	}
	return out, nil
}

func grantRecord(g grants.Grant, requests map[int64]grants.Request, approvers map[int64][]string, revokedAt time.Time) *GrantRecord {
	r := &GrantRecord{Grant: g}
	start := g.StartsAt.UTC()
	if req, ok := requests[ptrValue(g.RequestID)]; ok && g.RequestID != nil {
		created := req.CreatedAt.UTC()
		r.Requested = &created
		r.Approved = utc(req.DecidedAt)
		if r.Approved == nil {
			r.Approved = &start
		}
		r.Approvers = approvers[req.ID]
		if len(r.Approvers) == 0 && g.GrantedBy == "system" {
			r.AutoApproved = true
		}
	} else {
		r.Direct = g.RequestID == nil
		r.Approved = &start
	}
	if len(r.Approvers) == 0 && g.GrantedBy != "" {
		r.Approvers = []string{g.GrantedBy}
	}
	if r.Reason == "" {
		if req, ok := requests[ptrValue(g.RequestID)]; ok {
			r.Reason = req.Reason
		}
	}
	if g.Status == grants.GrantRevoked && !revokedAt.IsZero() {
		r.RevokedAt = &revokedAt
	}
	return r
}

// Offboardings implements Store.
func (s *DBStore) Offboardings(ctx context.Context, since, until time.Time) iter.Seq2[*OffboardingRecord, error] {
	return func(yield func(*OffboardingRecord, error) bool) {
		var last int64
		for {
			var os []grants.Offboarding
			err := s.DB.WithContext(ctx).Where("id > ? AND started_at >= ? AND started_at < ?", last, dbTime(since), dbTime(until)).
				Order("id").Limit(s.batch()).Find(&os).Error
			if err != nil {
				yield(nil, fmt.Errorf("reading offboardings after %d: %w", last, err))
				return
			}
			published, err := s.published(ctx, os)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, o := range os {
				r := &OffboardingRecord{Offboarding: o}
				if p, ok := published[o.EventUUID]; ok {
					r.EventPublished = &p
				}
				if !yield(r, nil) {
					return
				}
			}
			if len(os) < s.batch() {
				return
			}
			last = os[len(os)-1].ID
		}
	}
}

// published returns when Okta published the events behind offboardings.
func (s *DBStore) published(ctx context.Context, os []grants.Offboarding) (map[string]time.Time, error) {
	var uuids []string
	for _, o := range os {
		if o.EventUUID != "" {
			uuids = append(uuids, o.EventUUID)
		}
	}
	out := map[string]time.Time{}
	if len(uuids) == 0 {
		return out, nil
	}
	var evs []grants.OktaEvent
	if err := s.DB.WithContext(ctx).Select("uuid", "published").Where("uuid IN ?", uuids).Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("reading the offboardings' Okta events: %w", err)
	}
	for _, e := range evs {
		out[e.UUID] = e.Published.UTC()
	}
	return out, nil
}

// PolicyWriteAction is the audit action of the portal's policy writes; its
// details carry the new ETag under PolicyETagKey.
const (
	PolicyWriteAction = "sync.apply"
	PolicyETagKey     = "etag"
)

// PolicyWriteNear implements Store.
func (s *DBStore) PolicyWriteNear(ctx context.Context, at time.Time, window time.Duration, etag string) (int64, error) {
	var evs []grants.AuditEvent
	err := s.DB.WithContext(ctx).Where("action = ? AND at >= ? AND at <= ?", PolicyWriteAction, dbTime(at.Add(-window)), dbTime(at.Add(window))).
		Order("at, id").Limit(100).Find(&evs).Error
	if err != nil {
		return 0, fmt.Errorf("reading policy writes near %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	var best int64
	bestScore := time.Duration(-1)
	for _, e := range evs {
		own := detailString(e.Details, PolicyETagKey)
		if etag != "" && own != "" && !sameETag(etag, own) {
			continue
		}
		score := e.At.Sub(at).Abs()
		if etag != "" && own != "" {
			score -= window * 2 // an ETag match beats any match by time alone
		}
		if bestScore < 0 || score < bestScore {
			best, bestScore = e.ID, score
		}
	}
	return best, nil
}

// sameETag compares ETags with or without quotes and weak prefixes.
func sameETag(a, b string) bool {
	norm := func(s string) string { return strings.Trim(strings.TrimPrefix(s, "W/"), `"`) }
	return norm(a) == norm(b)
}

func detailString(details, key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(details), &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m[key], &s) != nil {
		return ""
	}
	return s
}

func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func ptrValue(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
