package grants

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Okta user statuses the portal cares about. Only ACTIVE users are members of
// anything.
const (
	StatusActive        = "ACTIVE"
	StatusSuspended     = "SUSPENDED"
	StatusDeprovisioned = "DEPROVISIONED"
	// StatusDeleted marks a user the portal found deleted in Okta (404).
	StatusDeleted = "DELETED"
)

// DirectoryUser is one Okta user in the last directory snapshot.
type DirectoryUser struct {
	ID          string `gorm:"primaryKey"`
	Login       string
	Email       string // lower-cased: the person's Tailscale login
	Name        string
	Status      string
	LastUpdated *time.Time
	SyncedAt    time.Time
}

// DirectoryGroup is one Okta group in the last directory snapshot.
type DirectoryGroup struct {
	ID                    string `gorm:"primaryKey"`
	Name                  string
	Description           string
	LastUpdated           *time.Time
	LastMembershipUpdated *time.Time
	SyncedAt              time.Time
}

// DirectoryMembership says that a user is in a group, in the snapshot.
type DirectoryMembership struct {
	GroupID string `gorm:"primaryKey"`
	UserID  string `gorm:"primaryKey"`
}

// Person is what the portal knows of someone from the directory snapshot.
type Person struct {
	ID     string
	Email  string
	Name   string
	Status string
	Groups []string // Okta group names, sorted
}

// Active reports whether the person is present in Okta: ACTIVE, or in
// ordinary password trouble (LOCKED_OUT, PASSWORD_EXPIRED, RECOVERY).
func (p *Person) Active() bool { return Present(p.Status) }

// InAny reports whether the person is in one of the named Okta groups.
func (p *Person) InAny(groups []string) bool {
	for _, g := range groups {
		for _, mine := range p.Groups {
			if g == mine {
				return true
			}
		}
	}
	return false
}

// ErrUnknownPerson means the directory snapshot has nobody with that email.
var ErrUnknownPerson = errors.New("not a user of the Okta directory")

// LookupPerson finds a person by email (case-insensitive) in the directory
// snapshot, with their groups.
func LookupPerson(ctx context.Context, db *gorm.DB, email string) (*Person, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var users []DirectoryUser
	// Prefer an ACTIVE account when an email was reused.
	if err := db.WithContext(ctx).Where("email = ?", email).Find(&users).Error; err != nil {
		return nil, fmt.Errorf("looking up %s: %w", email, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: %w", email, ErrUnknownPerson)
	}
	sort.SliceStable(users, func(i, j int) bool {
		return Present(users[i].Status) && !Present(users[j].Status)
	})
	u := users[0]
	p := &Person{ID: u.ID, Email: u.Email, Name: u.Name, Status: u.Status}
	err := db.WithContext(ctx).Model(&DirectoryGroup{}).
		Joins("JOIN directory_memberships m ON m.group_id = directory_groups.id").
		Where("m.user_id = ?", u.ID).Order("directory_groups.name").
		Pluck("directory_groups.name", &p.Groups).Error
	if err != nil {
		return nil, fmt.Errorf("reading groups of %s: %w", email, err)
	}
	return p, nil
}

// LookupPerson returns the ACTIVE directory user with this email and their groups.
func (s *Store) LookupPerson(ctx context.Context, email string) (*Person, error) {
	return LookupPerson(ctx, s.db.DB, email)
}
