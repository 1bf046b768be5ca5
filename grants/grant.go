package grants

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Grant statuses.
const (
	GrantActive  = "active"
	GrantExpired = "expired"
	GrantRevoked = "revoked"
)

// Grant is a time-limited membership of a user in a resource's Tailscale
// group. Its API shape is grantJSON (MarshalJSON).
type Grant struct {
	ID           int64 `gorm:"primaryKey"`
	RequestID    *int64
	Resource     string
	UserEmail    string
	GroupName    string
	StartsAt     time.Time
	ExpiresAt    time.Time
	Status       string
	AppliedAt    *time.Time
	RemovedAt    *time.Time
	RevokedBy    string
	RevokeReason string
	GrantedBy    string
	Reason       string
	// OnCallSchedules are the PagerDuty schedules (comma-separated) whose
	// on-call rule approved the grant: it ends when its holder is no longer
	// on call in any of them. Empty for grants approved otherwise.
	OnCallSchedules string
	// RevokedAt is when a revoked grant ended (relinquished, revoked by an
	// admin or by offboarding); nil for other grants.
	RevokedAt *time.Time
}

// ConfirmGrants records what a confirmed policy shows: running grants whose
// user is in their group are applied at now; ended grants (revoked, expired,
// or active but past expiresAt, swept or not) whose user is no longer in it
// are removed at now. members holds the confirmed members of
// each managed group. It returns the grants it stamped.
//
// A grant ending by endedBy (now, or a little later when the removing write
// was started ahead of the grant's end so that it lands on time) counts as
// ended.
func ConfirmGrants(ctx context.Context, db *gorm.DB, members map[string][]string, now, endedBy time.Time) (applied, removed []Grant, err error) {
	in := func(group, email string) bool {
		for _, m := range members[group] {
			if m == email {
				return true
			}
		}
		return false
	}
	var pending []Grant
	t, cutoff := now.UTC(), endedBy.UTC()
	if cutoff.Before(t) {
		cutoff = t
	}
	err = db.WithContext(ctx).Where(
		"(status = ? AND expires_at > ? AND applied_at IS NULL) OR ((status <> ? OR expires_at <= ?) AND removed_at IS NULL)", GrantActive, cutoff, GrantActive, cutoff,
	).Find(&pending).Error
	if err != nil {
		return nil, nil, fmt.Errorf("reading grants to confirm: %w", err)
	}
	var toApply, toRemove []Grant
	for _, g := range pending {
		if _, managed := members[g.GroupName]; !managed {
			continue
		}
		present := in(g.GroupName, g.UserEmail)
		running := g.Status == GrantActive && g.ExpiresAt.After(cutoff)
		switch {
		case running && present:
			toApply = append(toApply, g)
		case !running && !present:
			toRemove = append(toRemove, g)
		}
	}
	applied, err = stampGrants(ctx, db, "applied_at", toApply, t)
	if err != nil {
		return nil, nil, err
	}
	removed, err = stampGrants(ctx, db, "removed_at", toRemove, t)
	if err != nil {
		return applied, nil, err
	}
	return applied, removed, nil
}

// stampGrants sets column (applied_at or removed_at) to t on those of gs
// whose column is still NULL, a few hundred rows per statement, and returns
// the grants it stamped: a grant stamped concurrently elsewhere is left
// out, so that each stamp is audited once.
func stampGrants(ctx context.Context, db *gorm.DB, column string, gs []Grant, t time.Time) ([]Grant, error) {
	byID := make(map[int64]Grant, len(gs))
	ids := make([]int64, len(gs))
	for i, g := range gs {
		byID[g.ID], ids[i] = g, g.ID
	}
	var out []Grant
	for chunk := range slices.Chunk(ids, 500) {
		var stamped []int64
		err := db.WithContext(ctx).Raw("UPDATE grants SET "+column+" = ? WHERE id IN ? AND "+column+" IS NULL RETURNING id", t, chunk).
			Scan(&stamped).Error
		if err != nil {
			return out, fmt.Errorf("stamping grants' %s: %w", column, err)
		}
		slices.Sort(stamped)
		for _, id := range stamped {
			g := byID[id]
			if column == "applied_at" {
				g.AppliedAt = &t
			} else {
				g.RemovedAt = &t
			}
			out = append(out, g)
		}
	}
	return out, nil
}

// grantJSON is the API's Grant (CONTRACT.md), plus who granted it and why.
type grantJSON struct {
	ID           int64      `json:"id"`
	RequestID    *int64     `json:"requestId"`
	Resource     string     `json:"resource"`
	User         string     `json:"user"`
	Group        string     `json:"group"`
	StartsAt     time.Time  `json:"startsAt"`
	ExpiresAt    time.Time  `json:"expiresAt"`
	Status       string     `json:"status"`
	AppliedAt    *time.Time `json:"appliedAt"`
	RemovedAt    *time.Time `json:"removedAt"`
	RevokedBy    string     `json:"revokedBy"`
	RevokeReason string     `json:"revokeReason"`
	GrantedBy    string     `json:"grantedBy"`
	Reason       string     `json:"reason"`
	RevokedAt    *time.Time `json:"revokedAt"`
}

// MarshalJSON renders the grant in the API's shape with times in UTC.
func (g Grant) MarshalJSON() ([]byte, error) {
	return json.Marshal(grantJSON{
		ID: g.ID, RequestID: g.RequestID, Resource: g.Resource, User: g.UserEmail, Group: g.GroupName,
		StartsAt: g.StartsAt.UTC(), ExpiresAt: g.ExpiresAt.UTC(), Status: g.Status,
		AppliedAt: utcPtr(g.AppliedAt), RemovedAt: utcPtr(g.RemovedAt),
		RevokedBy: g.RevokedBy, RevokeReason: g.RevokeReason, GrantedBy: g.GrantedBy, Reason: g.Reason,
		RevokedAt: utcPtr(g.RevokedAt),
	})
}

// grantInput is access to give one user.
type grantInput struct {
	resource  Resource
	user      string
	requestID *int64
	duration  time.Duration
	grantedBy string // the approver, "system" (auto-approval) or the admin
	reason    string
	direct    bool // an admin's direct grant, audited as such
	// onCallSchedules marks a grant approved by the on-call rule (the
	// rule's schedules, comma-separated); "" for any other approval.
	onCallSchedules string
}

// grantAccess gives in.user the resource for in.duration from now inside tx:
// a new active grant, or the user's active grant extended — never
// shortened. Grants end on a whole second, rounded up. It appends the audit
// event (grant.create / grant.extend; grant.admin-grant for a direct grant)
// and queues the expiry reminder.
func grantAccess(ctx context.Context, tx *gorm.DB, in grantInput, now time.Time) (*Grant, error) {
	start := dbTime(now)
	until := start.Add(in.duration)
	if whole := until.Truncate(time.Second); !whole.Equal(until) {
		until = whole.Add(time.Second) // end on a whole second, never early
	}
	var g Grant
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
		Where("user_email = ? AND resource = ? AND status = ?", in.user, in.resource.Name, GrantActive).
		Limit(1).Find(&g).Error
	if err != nil {
		return nil, fmt.Errorf("reading active grant: %w", err)
	}
	if overdue, err := endOverdueGrant(ctx, tx, &g, now); err != nil {
		return nil, err
	} else if overdue {
		g = Grant{}
	}
	details := map[string]any{"resource": in.resource.Name, "user": in.user, "group": in.resource.Group}
	if in.requestID != nil {
		details["request"] = *in.requestID
	}
	if in.reason != "" {
		details["reason"] = in.reason
	}
	action := ""
	switch {
	case g.ID == 0:
		g = Grant{
			RequestID: in.requestID, Resource: in.resource.Name, UserEmail: in.user, GroupName: in.resource.Group,
			StartsAt: start, ExpiresAt: until, Status: GrantActive, GrantedBy: in.grantedBy, Reason: in.reason,
			OnCallSchedules: in.onCallSchedules,
		}
		if err := tx.Create(&g).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return nil, refuse(ErrConflict, "%s was granted %s at the same moment; try again", in.user, in.resource.Name)
			}
			return nil, fmt.Errorf("storing grant: %w", err)
		}
		action, details["outcome"] = "grant.create", "created"
		details["startsAt"], details["expiresAt"] = start, until
	case until.After(g.ExpiresAt):
		res := tx.Model(&Grant{}).Where("id = ? AND status = ?", g.ID, GrantActive).Updates(extension(g, in, until))
		if res.Error != nil {
			return nil, fmt.Errorf("extending grant %d: %w", g.ID, res.Error)
		}
		action, details["outcome"] = "grant.extend", "extended"
		details["from"], details["to"] = g.ExpiresAt.UTC(), until
		g.ExpiresAt = until
	default:
		// The active grant already lasts longer: keep it.
		details["outcome"], details["expiresAt"] = "unchanged", g.ExpiresAt.UTC()
	}
	if in.direct {
		action = "grant.admin-grant"
	}
	if action != "" {
		if err := AppendAudit(ctx, tx, Event{At: now, Actor: in.grantedBy, Action: action, Target: grantTarget(g.ID), Details: details}); err != nil {
			return nil, err
		}
	}
	if details["outcome"] != "unchanged" {
		if err := enqueueExpiryReminder(tx, &g, now); err != nil {
			return nil, err
		}
	}
	return &g, nil
}

// extension is the update that extends g until: an extension approved
// otherwise than by on-call makes the grant stand on that approval, so it no
// longer ends when its holder leaves call.
func extension(g Grant, in grantInput, until time.Time) map[string]any {
	upd := map[string]any{"expires_at": until}
	if g.OnCallSchedules != "" && in.onCallSchedules == "" {
		upd["on_call_schedules"] = ""
	}
	return upd
}

// DirectGrantInput is an admin's direct grant.
type DirectGrantInput struct {
	Resource string
	User     string // email
	// Duration is how long; 0 means the resource's default duration.
	Duration time.Duration
	Reason   string
}

// DirectGrant gives a user a resource without a request: an admin's
// decision, audited as grant.admin-grant. The user must be ACTIVE in the
// directory snapshot and not the admin; the duration obeys the resource's
// maximum; a reason is required. An active grant is extended, never
// shortened. Refusals are *Refusal.
func (s *Store) DirectGrant(ctx context.Context, cat *Catalog, admin *Person, in DirectGrantInput, now time.Time) (*Grant, error) {
	db := s.db.DB
	if !cat.IsAdmin(admin) {
		return nil, refuse(ErrForbidden, "only portal admins may grant access directly")
	}
	res, ok := cat.Resources[in.Resource]
	if !ok {
		return nil, refuse(ErrNotFound, "no resource %q in the catalog", in.Resource)
	}
	if res.Retired {
		return nil, refuse(ErrConflict, "%s is retired: it takes no new grants", res.Name)
	}
	user := strings.ToLower(strings.TrimSpace(in.User))
	if user == "" {
		return nil, refuse(ErrInvalid, "user is required: the email of the person to grant")
	}
	if user == admin.Email {
		return nil, refuse(ErrForbidden, "admins cannot grant themselves access; request it like everyone else")
	}
	reason, err := checkText("reason", in.Reason)
	if err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, refuse(ErrInvalid, "a direct grant requires a reason: it bypasses approval")
	}
	d, err := requestDuration(res, in.Duration)
	if err != nil {
		return nil, err
	}
	var g *Grant
	err = inAuditedTx(ctx, db, func(tx *gorm.DB) error {
		target, err := LookupPerson(ctx, tx, user)
		if errors.Is(err, ErrUnknownPerson) {
			return refuse(ErrNotFound, "no user %s in the Okta directory", user)
		}
		if err != nil {
			return err
		}
		if !target.Active() {
			return refuse(ErrInvalid, "%s is %s in Okta; only ACTIVE users can hold grants", user, target.Status)
		}
		g, err = grantAccess(ctx, tx, grantInput{resource: res, user: target.Email, duration: d, grantedBy: admin.Email, reason: reason, direct: true}, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.GetGrant(ctx, g.ID)
}

// RevokeGrant ends an active grant now: by its grantee (relinquishing it) or
// by an admin, with a reason. The reconciler then removes the user from the
// group and stamps removedAt. Others get ErrNotFound, so that grant ids do
// not leak; a grant that is no longer active is ErrConflict.
func (s *Store) RevokeGrant(ctx context.Context, cat *Catalog, id int64, by *Person, reason string, now time.Time) (*Grant, error) {
	db := s.db.DB
	reason, err := checkText("reason", reason)
	if err != nil {
		return nil, err
	}
	err = inAuditedTx(ctx, db, func(tx *gorm.DB) error {
		var g Grant
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&g).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return noSuchGrant(id)
		}
		if err != nil {
			return fmt.Errorf("reading grant %d: %w", id, err)
		}
		own := g.UserEmail == by.Email
		if !own && !cat.IsAdmin(by) {
			return noSuchGrant(id)
		}
		if g.Status != GrantActive {
			return refuse(ErrConflict, "grant %d is %s, not active", g.ID, g.Status)
		}
		res := tx.Model(&Grant{}).Where("id = ? AND status = ?", g.ID, GrantActive).
			Updates(map[string]any{"status": GrantRevoked, "revoked_by": by.Email, "revoke_reason": reason, "revoked_at": dbTime(now)})
		if res.Error != nil {
			return fmt.Errorf("revoking grant %d: %w", g.ID, res.Error)
		}
		if res.RowsAffected != 1 {
			return refuse(ErrConflict, "grant %d is no longer active", g.ID)
		}
		err = AppendAudit(ctx, tx, Event{At: now, Actor: by.Email, Action: "grant.revoke", Target: grantTarget(g.ID),
			Details: map[string]any{"reason": reason, "user": g.UserEmail, "resource": g.Resource, "group": g.GroupName,
				"relinquished": own, "expiresAt": g.ExpiresAt.UTC()}})
		if err != nil {
			return err
		}
		if own {
			return nil
		}
		return enqueue(tx, NotifyGrantRevoked, []string{g.UserEmail}, &g.ID, map[string]any{
			"grant": g.ID, "resource": g.Resource, "user": g.UserEmail, "by": by.Email, "reason": reason,
		}, now, now)
	})
	if err != nil {
		return nil, err
	}
	return s.GetGrant(ctx, id)
}

// GetGrant reads one grant.
func (s *Store) GetGrant(ctx context.Context, id int64) (*Grant, error) {
	db := s.db.DB
	var g Grant
	err := db.WithContext(ctx).Where("id = ?", id).Take(&g).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, noSuchGrant(id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading grant %d: %w", id, err)
	}
	return &g, nil
}

// GrantQuery selects grants for ListGrants.
type GrantQuery struct {
	// User keeps only this grantee's grants; "" keeps everybody's.
	User string
	// Resource keeps only grants of this resource; "" keeps all.
	Resource string
	// Active, when set, keeps only active grants (true) or only ended ones
	// (false).
	Active *bool
	// Limit caps the answer (newest first); 0 means 500.
	Limit int
}

// ListGrants lists grants, newest first.
func (s *Store) ListGrants(ctx context.Context, q GrantQuery) ([]Grant, error) {
	db := s.db.DB
	if q.Limit <= 0 {
		q.Limit = 500
	}
	tx := db.WithContext(ctx).Model(&Grant{})
	if q.User != "" {
		tx = tx.Where("user_email = ?", strings.ToLower(q.User))
	}
	if q.Resource != "" {
		tx = tx.Where("resource = ?", q.Resource)
	}
	if q.Active != nil && *q.Active {
		tx = tx.Where("status = ?", GrantActive)
	} else if q.Active != nil {
		tx = tx.Where("status <> ?", GrantActive)
	}
	out := []Grant{}
	if err := tx.Order("starts_at DESC, id DESC").Limit(q.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing grants: %w", err)
	}
	return out, nil
}

func noSuchGrant(id int64) *Refusal { return refuse(ErrNotFound, "no grant %d", id) }
