package grants

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Offboarding groups everything the portal took away from one person who
// left Okta's ACTIVE state, from the event that said so to the confirmed
// policy.
type Offboarding struct {
	ID                int64      `gorm:"primaryKey" json:"id"`
	Email             string     `json:"email"`
	OktaUserID        string     `json:"oktaUserId"`
	OktaStatus        string     `json:"oktaStatus"`
	EventUUID         string     `json:"eventUuid"`
	EventReceivedAt   *time.Time `json:"eventReceivedAt"`
	StartedAt         time.Time  `json:"startedAt"`
	GrantsRevoked     int        `json:"grantsRevoked"`
	RequestsCancelled int        `json:"requestsCancelled"`
	SessionsDeleted   int        `json:"sessionsDeleted"`
	TokensDisabled    int        `json:"tokensDisabled"`
	PolicyConfirmedAt *time.Time `json:"policyConfirmedAt"`
	EndedAt           *time.Time `json:"endedAt"`
}

// departedPerson is someone the cascade must take everything from.
type departedPerson struct {
	Email, OktaUserID, Status string
}

// OffboardDeparted takes everything away from people Okta says are no longer
// ACTIVE (suspended, deactivated, deleted): active grants revoked, pending
// requests cancelled, portal sessions deleted, API tokens disabled, one
// offboarding record each, every action audited. It is level-triggered and
// idempotent: run it after every change of the directory snapshot. A person
// who is ACTIVE again gets their open record closed (nothing is restored).
func (s *Store) OffboardDeparted(ctx context.Context, now time.Time) ([]Offboarding, error) {
	db := s.db.DB
	db = db.WithContext(ctx)
	var snapshotUsers int64
	if err := db.Model(&DirectoryUser{}).Count(&snapshotUsers).Error; err != nil {
		return nil, fmt.Errorf("reading the directory snapshot: %w", err)
	}
	if snapshotUsers == 0 {
		// No complete read of Okta yet: nobody can be said to have left.
		return nil, nil
	}
	if err := closeReactivated(db, now); err != nil {
		return nil, err
	}
	people, err := departedPeople(db)
	if err != nil {
		return nil, err
	}
	var out []Offboarding
	for _, p := range people {
		o, err := offboard(ctx, db, p, now)
		if err != nil {
			return out, fmt.Errorf("offboarding %s: %w", p.Email, err)
		}
		if o != nil {
			out = append(out, *o)
		}
	}
	return out, nil
}

// activeEmails is a subquery of the emails of present users.
func activeEmails(db *gorm.DB) *gorm.DB {
	return db.Model(&DirectoryUser{}).Select("email").Where("status IN ?", PresentStatuses)
}

// departedPeople finds who must be offboarded: snapshot users who departed
// (SUSPENDED, DEPROVISIONED, deleted; no present account under the same
// email) who have no open offboarding record, and holders of grants,
// requests or sessions that no present user has any more (deleted from
// Okta). LOCKED_OUT, PASSWORD_EXPIRED and RECOVERY people are present;
// STAGED and PROVISIONED people have not arrived: neither is offboarded.
func departedPeople(db *gorm.DB) ([]departedPerson, error) {
	open := db.Model(&Offboarding{}).Select("email").Where("ended_at IS NULL")
	var users []DirectoryUser
	err := db.Where("status IN ? AND email <> ''", DepartedStatuses).
		Where("email NOT IN (?)", activeEmails(db)).
		Where("email NOT IN (?)", open).
		Order("email").Find(&users).Error
	if err != nil {
		return nil, fmt.Errorf("reading departed users: %w", err)
	}
	seen := map[string]bool{}
	var out []departedPerson
	for _, u := range users {
		if !seen[u.Email] {
			seen[u.Email] = true
			out = append(out, departedPerson{Email: u.Email, OktaUserID: u.ID, Status: u.Status})
		}
	}
	// People whose Okta account is gone from the snapshot altogether but who
	// still hold something the portal gave them.
	var holders []string
	err = db.Raw(`SELECT email FROM (
    SELECT user_email AS email FROM grants WHERE status = ?
    UNION SELECT requester FROM requests WHERE status = ?
    UNION SELECT email FROM sessions WHERE email <> ''
) h WHERE email NOT IN (SELECT email FROM directory_users) ORDER BY email`, GrantActive, RequestPending).Scan(&holders).Error
	if err != nil {
		return nil, fmt.Errorf("reading holders without an Okta account: %w", err)
	}
	for _, e := range holders {
		if !seen[e] {
			seen[e] = true
			out = append(out, departedPerson{Email: e, Status: StatusDeleted})
		}
	}
	return out, nil
}

// offboard runs the cascade for one person in one transaction.
func offboard(ctx context.Context, db *gorm.DB, p departedPerson, now time.Time) (*Offboarding, error) {
	t := now.UTC()
	var rec *Offboarding
	err := db.Transaction(func(tx *gorm.DB) error {
		// An open record means the cascade ran already; it only has to
		// catch what appeared since (none normally).
		var existing Offboarding
		found := tx.Where("email = ? AND ended_at IS NULL", p.Email).Limit(1).Find(&existing).RowsAffected == 1
		o := &existing
		if !found {
			o = &Offboarding{Email: p.Email, OktaUserID: p.OktaUserID, OktaStatus: p.Status, StartedAt: t}
			if ev := lastLifecycleEvent(tx, p.OktaUserID); ev != nil {
				o.EventUUID, o.EventReceivedAt = ev.UUID, &ev.ReceivedAt
			}
			if err := tx.Create(o).Error; err != nil {
				return err
			}
		}
		target := fmt.Sprintf("offboarding:%d", o.ID)
		reason := "offboarded in Okta (" + strings.ToLower(p.Status) + ")"
		audit := func(action, tgt string, details map[string]any) error {
			details["offboarding"] = o.ID
			details["user"] = p.Email
			return AppendAudit(ctx, tx, Event{At: now, Actor: "okta", Action: action, Target: tgt, Details: details})
		}
		if !found {
			details := map[string]any{"oktaUserId": p.OktaUserID, "oktaStatus": p.Status}
			if o.EventUUID != "" {
				details["event"] = o.EventUUID
				details["eventReceivedAt"] = o.EventReceivedAt
			} else {
				details["detectedBy"] = "poll"
			}
			if err := audit("offboard.start", target, details); err != nil {
				return err
			}
		}
		var gs []Grant
		if err := tx.Where("user_email = ? AND status = ?", p.Email, GrantActive).Find(&gs).Error; err != nil {
			return err
		}
		for _, g := range gs {
			res := tx.Model(&Grant{}).Where("id = ? AND status = ?", g.ID, GrantActive).
				Updates(map[string]any{"status": GrantRevoked, "revoked_by": "okta", "revoke_reason": reason, "revoked_at": t})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				o.GrantsRevoked++
				if err := audit("grant.revoke", fmt.Sprintf("grant:%d", g.ID), map[string]any{"resource": g.Resource, "reason": reason}); err != nil {
					return err
				}
			}
		}
		var reqs []Request
		if err := tx.Where("requester = ? AND status = ?", p.Email, RequestPending).Find(&reqs).Error; err != nil {
			return err
		}
		for _, r := range reqs {
			res := tx.Model(&Request{}).Where("id = ? AND status = ?", r.ID, RequestPending).
				Updates(map[string]any{"status": RequestCancelled, "decided_at": t})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				o.RequestsCancelled++
				if err := audit("request.cancel", fmt.Sprintf("request:%d", r.ID), map[string]any{"resource": r.Resource, "reason": reason}); err != nil {
					return err
				}
			}
		}
		deleted, err := deleteSessionsOf(tx, p.Email)
		if err != nil {
			return fmt.Errorf("deleting %s's sessions: %w", p.Email, err)
		}
		if deleted > 0 {
			o.SessionsDeleted += int(deleted)
			if err := audit("session.delete", "user:"+p.Email, map[string]any{"sessions": deleted}); err != nil {
				return err
			}
		}
		var toks []APIToken
		if err := tx.Where("email = ? AND disabled_at IS NULL", p.Email).Find(&toks).Error; err != nil {
			return err
		}
		if len(toks) > 0 {
			ids := make([]int64, len(toks))
			for i, tok := range toks {
				ids[i] = tok.ID
			}
			if err := tx.Model(&APIToken{}).Where("id IN ?", ids).Update("disabled_at", t).Error; err != nil {
				return fmt.Errorf("disabling %s's API tokens: %w", p.Email, err)
			}
		}
		for _, tok := range toks {
			o.TokensDisabled++
			if err := audit("token.disable", fmt.Sprintf("token:%d", tok.ID), map[string]any{"reason": reason}); err != nil {
				return err
			}
		}
		if err := tx.Save(o).Error; err != nil {
			return err
		}
		if !found || o.GrantsRevoked+o.RequestsCancelled+o.SessionsDeleted+o.TokensDisabled > existing.GrantsRevoked+existing.RequestsCancelled+existing.SessionsDeleted+existing.TokensDisabled {
			rec = o
		}
		return nil
	})
	if err == nil && rec != nil {
		slog.Info("offboarded", "email", p.Email, "okta_status", p.Status, "grants_revoked", rec.GrantsRevoked,
			"requests_cancelled", rec.RequestsCancelled, "sessions_deleted", rec.SessionsDeleted, "tokens_disabled", rec.TokensDisabled)
	}
	return rec, err
}

// lastLifecycleEvent is the latest Okta event naming the user that said
// they left, if one came through the hook.
func lastLifecycleEvent(tx *gorm.DB, oktaUserID string) *OktaEvent {
	if oktaUserID == "" {
		return nil
	}
	var ev OktaEvent
	n := tx.Where("event_type IN ? AND targets LIKE ?",
		[]string{"user.lifecycle.deactivate", "user.lifecycle.suspend", "user.lifecycle.delete.initiated", "group.user_membership.remove"},
		`%"id":"`+oktaUserID+`"%`).Order("received_at DESC").Limit(1).Find(&ev).RowsAffected
	if n == 0 {
		return nil
	}
	return &ev
}

// closeReactivated ends the open records of people ACTIVE again.
func closeReactivated(db *gorm.DB, now time.Time) error {
	var back []Offboarding
	if err := db.Where("ended_at IS NULL AND email IN (?)", activeEmails(db)).Find(&back).Error; err != nil {
		return fmt.Errorf("reading reactivated users: %w", err)
	}
	for _, o := range back {
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Model(&Offboarding{}).Where("id = ?", o.ID).Update("ended_at", now.UTC()).Error; err != nil {
				return err
			}
			return AppendAudit(db.Statement.Context, tx, Event{At: now, Actor: "okta", Action: "offboard.end", Target: fmt.Sprintf("offboarding:%d", o.ID),
				Details: map[string]any{"user": o.Email, "reason": "ACTIVE in Okta again; grants are not restored"}})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ConfirmOffboardings stamps policy_confirmed_at on open records whose person
// is in none of the confirmed managed groups.
func ConfirmOffboardings(ctx context.Context, tx *gorm.DB, members map[string][]string, now time.Time) error {
	var open []Offboarding
	if err := tx.WithContext(ctx).Where("ended_at IS NULL AND policy_confirmed_at IS NULL").Find(&open).Error; err != nil {
		return fmt.Errorf("reading offboardings: %w", err)
	}
	if len(open) == 0 {
		return nil
	}
	inPolicy := map[string]bool{}
	for _, ms := range members {
		for _, m := range ms {
			inPolicy[m] = true
		}
	}
	var gone []Offboarding
	var ids []int64
	for _, o := range open {
		if !inPolicy[o.Email] {
			gone = append(gone, o)
			ids = append(ids, o.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if err := tx.WithContext(ctx).Model(&Offboarding{}).Where("id IN ?", ids).Update("policy_confirmed_at", now.UTC()).Error; err != nil {
		return fmt.Errorf("confirming offboardings: %w", err)
	}
	for _, o := range gone {
		if err := AppendAudit(ctx, tx, Event{At: now, Actor: "system", Action: "offboard.confirmed", Target: fmt.Sprintf("offboarding:%d", o.ID),
			Details: map[string]any{"user": o.Email, "startedAt": o.StartedAt, "eventReceivedAt": o.EventReceivedAt}}); err != nil {
			return err
		}
	}
	return nil
}

// ListOffboardings returns the most recent records first.
func (s *Store) ListOffboardings(ctx context.Context, limit int) ([]Offboarding, error) {
	db := s.db.DB
	var out []Offboarding
	err := db.WithContext(ctx).Order("started_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, err
}
