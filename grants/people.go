package grants

import (
	"context"
	"fmt"
)

// LookupPeople reads the directory snapshot's people with these emails and
// their Okta groups in two queries, preferring an ACTIVE account when an
// email was reused (as LookupPerson does for one person). Unknown emails
// are absent from the map.
func (s *Store) LookupPeople(ctx context.Context, emails []string) (map[string]*Person, error) {
	out := map[string]*Person{}
	if len(emails) == 0 {
		return out, nil
	}
	db := s.db.WithContext(ctx)
	var users []DirectoryUser
	if err := db.Where("email IN ?", emails).Order("id").Find(&users).Error; err != nil {
		return nil, fmt.Errorf("looking up people: %w", err)
	}
	for _, u := range users {
		if cur, ok := out[u.Email]; ok && (cur.Active() || !Present(u.Status)) {
			continue
		}
		out[u.Email] = &Person{ID: u.ID, Email: u.Email, Name: u.Name, Status: u.Status}
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(out))
	byID := make(map[string]*Person, len(out))
	for _, p := range out {
		ids = append(ids, p.ID)
		byID[p.ID] = p
	}
	var rows []struct {
		UserID string
		Name   string
	}
	err := db.Table("directory_memberships m").Select("m.user_id AS user_id, g.name AS name").
		Joins("JOIN directory_groups g ON g.id = m.group_id").Where("m.user_id IN ?", ids).
		Order("g.name").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("reading people's groups: %w", err)
	}
	for _, r := range rows {
		byID[r.UserID].Groups = append(byID[r.UserID].Groups, r.Name)
	}
	return out, nil
}
