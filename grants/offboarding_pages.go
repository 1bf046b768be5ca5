package grants

import (
	"context"
	"fmt"
)

// OffboardingsPage reads one page of at most size offboarding records,
// newest first, before the record with id before (0 = from the newest);
// email keeps those whose email contains it.
func (s *Store) OffboardingsPage(ctx context.Context, email string, before int64, size int) ([]Offboarding, bool, error) {
	tx := s.db.WithContext(ctx).Model(&Offboarding{})
	if email != "" {
		tx = tx.Where(`email LIKE ? ESCAPE '\'`, likeContains(email))
	}
	if before > 0 {
		tx = tx.Where("id < ?", before)
	}
	var rows []Offboarding
	if err := tx.Order("id DESC").Limit(size + 1).Find(&rows).Error; err != nil {
		return nil, false, fmt.Errorf("listing offboardings: %w", err)
	}
	return rows[:min(len(rows), size)], len(rows) > size, nil
}
