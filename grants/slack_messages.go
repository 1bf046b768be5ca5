package grants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// SlackMessage is a message the outbox posted in Slack: its place (channel
// and ts, which chat.update needs), what it is about, and the delivery that
// posted it (notification and target), so that a retried delivery does not
// post it twice.
type SlackMessage struct {
	ID             int64 `gorm:"primaryKey"`
	NotificationID int64
	// Target is where the delivery posted: the channel id, or the Slack
	// user id of a direct message.
	Target string
	// RequestID is set on the messages to approvers about a request (the
	// ones a decision updates), GrantID on direct messages about a grant.
	RequestID *int64
	GrantID   *int64
	Channel   string
	TS        string `gorm:"column:ts"`
	CreatedAt time.Time
}

// slackPosted reports whether a delivery already posted to target.
func (s *Store) slackPosted(ctx context.Context, notificationID int64, target string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&SlackMessage{}).
		Where("notification_id = ? AND target = ?", notificationID, target).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("reading Slack messages: %w", err)
	}
	return n > 0, nil
}

// recordSlackMessage stores a posted message; a second record of the same
// delivery is ignored.
func (s *Store) recordSlackMessage(ctx context.Context, m SlackMessage) error {
	m.CreatedAt = dbTime(m.CreatedAt)
	err := s.db.WithContext(ctx).Create(&m).Error
	if err != nil && !errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("recording Slack message %s/%s: %w", m.Channel, m.TS, err)
	}
	return nil
}

// RequestSlackMessages returns the messages posted about a request (to
// approvers), oldest first: the ones a decision updates.
func (s *Store) RequestSlackMessages(ctx context.Context, requestID int64) ([]SlackMessage, error) {
	var out []SlackMessage
	err := s.db.WithContext(ctx).Where("request_id = ?", requestID).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("reading Slack messages of request %d: %w", requestID, err)
	}
	return out, nil
}
