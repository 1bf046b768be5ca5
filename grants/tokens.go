package grants

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"
)

// APIToken is an API token of one person. Only the SHA-256 of its secret is
// stored.
type APIToken struct {
	ID    int64 `gorm:"primaryKey"`
	Email string
	// OktaUserID is the Okta user the token acts as ("" for tokens minted
	// before tokens were bound to an id: they resolve by a unique email).
	OktaUserID string
	Name       string
	TokenHash  string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	DisabledAt *time.Time
}

// tokenPrefix marks portal API tokens so that secret scanners can find them.
const tokenPrefix = "pat_"

// ErrInvalidToken means a bearer token is unknown, expired or disabled.
var ErrInvalidToken = errors.New("invalid, expired or disabled API token")

// CreateToken mints a token for email. ttl 0 means it does not expire. It
// returns the secret, which is shown once and never stored.
func (s *Store) CreateToken(ctx context.Context, email, name string, ttl time.Duration, now time.Time) (string, *APIToken, error) {
	db := s.db.DB
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || !strings.Contains(email, "@") {
		return "", nil, fmt.Errorf("creating token: %q is not an email address", email)
	}
	if ttl < 0 {
		return "", nil, fmt.Errorf("creating token: ttl %s is negative", ttl)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	userID, err := s.OktaUserID(ctx, email)
	if err != nil {
		return "", nil, fmt.Errorf("creating token: %w", err)
	}
	tok := &APIToken{Email: email, OktaUserID: userID, Name: name, TokenHash: hashToken(secret), CreatedAt: now.UTC()}
	if ttl > 0 {
		exp := now.Add(ttl).UTC()
		tok.ExpiresAt = &exp
	}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(tok).Error; err != nil {
			return fmt.Errorf("storing token: %w", err)
		}
		return AppendAudit(ctx, tx, Event{
			At: now, Actor: email, Action: "token.create", Target: fmt.Sprintf("token:%d", tok.ID),
			Details: map[string]any{"name": name, "expiresAt": tok.ExpiresAt},
		})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, tok, nil
}

// AuthenticateToken finds the live token with this secret and records its use.
func (s *Store) AuthenticateToken(ctx context.Context, secret string, now time.Time) (*APIToken, error) {
	db := s.db.DB
	if !strings.HasPrefix(secret, tokenPrefix) {
		return nil, ErrInvalidToken
	}
	var tok APIToken
	err := db.WithContext(ctx).Where("token_hash = ?", hashToken(secret)).Take(&tok).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("reading token: %w", err)
	}
	if tok.DisabledAt != nil || (tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt)) {
		return nil, ErrInvalidToken
	}
	// Record use at most once a minute to keep reads cheap.
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > time.Minute {
		t := now.UTC()
		tok.LastUsedAt = &t
		if err := db.WithContext(ctx).Model(&APIToken{}).Where("id = ?", tok.ID).Update("last_used_at", t).Error; err != nil {
			// The token is valid all the same; only its last use is stale.
			slog.WarnContext(ctx, "recording an API token's use", "token", tok.ID, "err", err)
		}
	}
	return &tok, nil
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
