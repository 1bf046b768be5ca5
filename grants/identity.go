package grants

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// ErrSharedLogin means several present Okta users have the same login
// (email): none of them can be told apart, so none signs in or uses a
// token until Okta makes it unique.
var ErrSharedLogin = errors.New("is the login of several Okta users; ask an Okta admin to make it unique")

// Identify resolves who signed in or owns a token. A person is their Okta
// user id: with userID, that user (ErrUnknownPerson when the snapshot does
// not hold it); without one (a token minted before tokens were bound to an
// id), the one user with that email. Either way, a login that another
// present Okta user shares is ErrSharedLogin.
func (s *Store) Identify(ctx context.Context, userID, email string) (*Person, error) {
	db := s.db.WithContext(ctx)
	var u DirectoryUser
	if userID != "" {
		err := db.Where("id = ?", userID).Take(&u).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("Okta user %s: %w", userID, ErrUnknownPerson)
		}
		if err != nil {
			return nil, fmt.Errorf("looking up Okta user %s: %w", userID, err)
		}
		email = u.Email
	}
	// A departed or not yet active user is refused for that; sharing a
	// login matters only to someone who could act.
	if userID == "" || slices.Contains(PresentStatuses, u.Status) {
		if err := checkLoginUnique(ctx, s.db.DB, email, userID); err != nil {
			return nil, err
		}
	}
	if userID == "" {
		return LookupPerson(ctx, s.db.DB, email)
	}
	return personOf(ctx, s.db.DB, u)
}

// OktaUserID returns the id of the one present Okta user with this email,
// "" when there is none; ErrSharedLogin when several have it.
func (s *Store) OktaUserID(ctx context.Context, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if err := checkLoginUnique(ctx, s.db.DB, email, ""); err != nil {
		return "", err
	}
	var ids []string
	err := s.db.WithContext(ctx).Model(&DirectoryUser{}).Where("email = ? AND status IN ?", email, PresentStatuses).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}

// checkLoginUnique fails with ErrSharedLogin when present Okta users other
// than userID have this login, or (userID empty) more than one has it.
func checkLoginUnique(ctx context.Context, db *gorm.DB, email, userID string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil
	}
	var n int64
	q := db.WithContext(ctx).Model(&DirectoryUser{}).Where("email = ? AND status IN ?", email, PresentStatuses)
	if userID != "" {
		q = q.Where("id <> ?", userID)
	}
	if err := q.Count(&n).Error; err != nil {
		return fmt.Errorf("checking who else has the login %s: %w", email, err)
	}
	if n > 0 && (userID != "" || n > 1) {
		return fmt.Errorf("%s %w", email, ErrSharedLogin)
	}
	return nil
}

// personOf reads a directory user's groups into a Person.
func personOf(ctx context.Context, db *gorm.DB, u DirectoryUser) (*Person, error) {
	p := &Person{ID: u.ID, Email: u.Email, Name: u.Name, Status: u.Status}
	err := db.WithContext(ctx).Model(&DirectoryGroup{}).
		Joins("JOIN directory_memberships m ON m.group_id = directory_groups.id").
		Where("m.user_id = ?", u.ID).Order("directory_groups.name").
		Pluck("directory_groups.name", &p.Groups).Error
	if err != nil {
		return nil, fmt.Errorf("reading groups of %s: %w", u.Email, err)
	}
	return p, nil
}
