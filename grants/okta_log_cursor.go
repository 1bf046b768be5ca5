package grants

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// oktaLogCursor is where the next read of Okta's System Log starts.
type oktaLogCursor struct {
	ID        int64 `gorm:"primaryKey"`
	After     string
	Since     *time.Time
	UpdatedAt time.Time
}

func (oktaLogCursor) TableName() string { return "okta_log_cursor" }

// SystemLogCursor returns where the next read of Okta's System Log starts:
// the opaque after token of Okta's last next link, or a time; ok is false
// before the first read.
func (s *Store) SystemLogCursor(ctx context.Context) (after string, since time.Time, ok bool, err error) {
	var rows []oktaLogCursor
	if err := s.db.WithContext(ctx).Where("id = 1").Limit(1).Find(&rows).Error; err != nil {
		return "", time.Time{}, false, fmt.Errorf("reading the System Log cursor: %w", err)
	}
	if len(rows) == 0 {
		return "", time.Time{}, false, nil
	}
	if rows[0].Since != nil {
		since = rows[0].Since.UTC()
	}
	return rows[0].After, since, true, nil
}

// SaveSystemLogEvents stores the events a System Log read found (as Okta
// events, beside those hooks delivered; an event both delivered is stored
// once, by uuid) and moves the cursor past them, in one transaction: a crash
// reads the same events again, never skips any. It returns how many events
// were new.
func (s *Store) SaveSystemLogEvents(ctx context.Context, events []OktaEvent, after string, since time.Time, now time.Time) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if n, err = insertOktaEvents(tx, events); err != nil {
			return fmt.Errorf("storing System Log events: %w", err)
		}
		cur := oktaLogCursor{ID: 1, After: after, UpdatedAt: now.UTC()}
		if !since.IsZero() {
			t := since.UTC()
			cur.Since = &t
		}
		err = tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, UpdateAll: true}).Create(&cur).Error
		if err != nil {
			return fmt.Errorf("saving the System Log cursor: %w", err)
		}
		return nil
	})
	return n, err
}
