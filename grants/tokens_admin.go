package grants

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// TokenQuery selects API tokens for ListTokens.
type TokenQuery struct {
	// Email keeps the tokens of this person; "" keeps everybody's.
	Email string
	// Before keeps tokens with an id below it (the next page); 0 starts at
	// the newest.
	Before int64
	// Limit is the page size; 0 means 50, at most 500.
	Limit int
}

// TokenPage is one page of tokens, newest first.
type TokenPage struct {
	Tokens []APIToken
	// More says whether older tokens follow the last one.
	More bool
}

// ListTokens lists API tokens newest first, one page at a time (keyset on
// the id).
func (s *Store) ListTokens(ctx context.Context, q TokenQuery) (*TokenPage, error) {
	db := s.db.DB
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	tx := db.WithContext(ctx).Model(&APIToken{})
	if e := strings.ToLower(strings.TrimSpace(q.Email)); e != "" {
		tx = tx.Where("email = ?", e)
	}
	if q.Before > 0 {
		tx = tx.Where("id < ?", q.Before)
	}
	page := &TokenPage{Tokens: []APIToken{}}
	if err := tx.Order("id DESC").Limit(q.Limit + 1).Find(&page.Tokens).Error; err != nil {
		return nil, fmt.Errorf("listing API tokens: %w", err)
	}
	page.More = len(page.Tokens) > q.Limit
	page.Tokens = page.Tokens[:min(len(page.Tokens), q.Limit)]
	return page, nil
}

// Live reports whether the token still authenticates at now.
func (t *APIToken) Live(now time.Time) bool {
	return t.DisabledAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// RevokeToken disables a token now, audited as token.revoke: by its owner,
// or by an admin (admin true). Anyone else gets ErrNotFound, as for a token
// that does not exist, so that token ids do not leak; a token disabled
// already is ErrConflict.
func (s *Store) RevokeToken(ctx context.Context, id int64, by *Person, admin bool, now time.Time) (*APIToken, error) {
	db := s.db.DB
	var tok APIToken
	err := inAuditedTx(ctx, db, func(tx *gorm.DB) error {
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&tok).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return refuse(ErrNotFound, "no API token %d", id)
		}
		if err != nil {
			return fmt.Errorf("reading API token %d: %w", id, err)
		}
		if tok.Email != by.Email && !admin {
			return refuse(ErrNotFound, "no API token %d", id)
		}
		if tok.DisabledAt != nil {
			return refuse(ErrConflict, "API token %d is revoked already", id)
		}
		t := dbTime(now)
		res := tx.Model(&APIToken{}).Where("id = ? AND disabled_at IS NULL", id).Update("disabled_at", t)
		if res.Error != nil {
			return fmt.Errorf("revoking API token %d: %w", id, res.Error)
		}
		if res.RowsAffected != 1 {
			return refuse(ErrConflict, "API token %d is revoked already", id)
		}
		tok.DisabledAt = &t
		return AppendAudit(ctx, tx, Event{At: now, Actor: by.Email, Action: "token.revoke", Target: fmt.Sprintf("token:%d", id),
			Details: map[string]any{"name": tok.Name, "owner": tok.Email}})
	})
	if err != nil {
		return nil, err
	}
	return &tok, nil
}
