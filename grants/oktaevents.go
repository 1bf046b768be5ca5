package grants

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// OktaEventTarget is one target of an Okta System Log event.
type OktaEventTarget struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

// OktaEvent is one event received through the Okta event hook.
type OktaEvent struct {
	UUID        string `gorm:"primaryKey"`
	EventType   string
	Published   time.Time
	Targets     string // JSON array of OktaEventTarget
	ReceivedAt  time.Time
	ProcessedAt *time.Time
	Result      string
}

// TableName is the table of received Okta events.
func (OktaEvent) TableName() string { return "okta_events" }

// DecodeTargets decodes the event's targets.
func (e *OktaEvent) DecodeTargets() ([]OktaEventTarget, error) {
	var ts []OktaEventTarget
	if err := json.Unmarshal([]byte(e.Targets), &ts); err != nil {
		return nil, fmt.Errorf("decoding targets of Okta event %s: %w", e.UUID, err)
	}
	return ts, nil
}

// TargetList decodes the event's targets; an undecodable list is logged
// and counts as no targets (the event hook stored what Okta sent).
func (e *OktaEvent) TargetList() []OktaEventTarget {
	ts, err := e.DecodeTargets()
	if err != nil {
		slog.Warn("ignoring the targets of an Okta event", "err", err)
	}
	return ts
}

// StoreOktaEvents stores events durably, ignoring ones already received
// (same uuid). It returns how many were new.
func (s *Store) StoreOktaEvents(ctx context.Context, events []OktaEvent) (int64, error) {
	db := s.db.DB
	if len(events) == 0 {
		return 0, nil
	}
	var stored int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		stored, err = insertOktaEvents(tx, events)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storing %d Okta events: %w", len(events), err)
	}
	return stored, nil
}

// insertOktaEvents stores events in tx, ignoring ones already stored (same
// uuid), and says how many were new. In batches: one INSERT of 20,000
// events would exceed the databases' bound on query parameters (SQLite's
// 32,766, PostgreSQL's 65,535).
func insertOktaEvents(tx *gorm.DB, events []OktaEvent) (int64, error) {
	var stored int64
	for batch := range slices.Chunk(events, oktaEventBatch) {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&batch)
		if res.Error != nil {
			return 0, res.Error
		}
		stored += res.RowsAffected
	}
	return stored, nil
}

// oktaEventBatch is how many events one INSERT stores (7 columns each).
const oktaEventBatch = 500

// PendingOktaEvents returns up to limit unprocessed events, oldest published first.
func PendingOktaEvents(ctx context.Context, db *gorm.DB, limit int) ([]OktaEvent, error) {
	var evs []OktaEvent
	err := db.WithContext(ctx).Where("processed_at IS NULL").Order("published, uuid").Limit(limit).Find(&evs).Error
	return evs, err
}

// MarkOktaEventProcessed records the outcome of processing one event.
func MarkOktaEventProcessed(ctx context.Context, db *gorm.DB, uuid, result string, now time.Time) error {
	return db.WithContext(ctx).Model(&OktaEvent{}).Where("uuid = ?", uuid).
		Updates(map[string]any{"processed_at": now.UTC(), "result": result}).Error
}
