package grants

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// auditActor is one actor the audit log names (migration 00017): the actor
// filter, which matches part of an actor, searches these rather than the
// log, then reads each actor's events on its index.
type auditActor struct {
	Actor string `gorm:"primaryKey"`
}

func (auditActor) TableName() string { return "audit_actors" }

// rememberAuditActors records the actors of events being appended in tx.
func rememberAuditActors(tx *gorm.DB, actors ...string) error {
	if len(actors) == 0 {
		return nil
	}
	slices.Sort(actors)
	rows := make([]auditActor, 0, len(actors))
	for _, a := range slices.Compact(actors) {
		rows = append(rows, auditActor{Actor: a})
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error; err != nil {
		return fmt.Errorf("recording audit actors: %w", err)
	}
	return nil
}

// auditActorRanges is how many actors an actor filter may match for each
// one's events to be read on its own index range. A filter that matches
// more ("@example.com") matches much of the log, which is then read in
// time order until a page is full.
const auditActorRanges = 25

// auditActors are the actors an actor filter matches.
type auditActors struct {
	// Names are the matching actors, sorted, when Few.
	Names []string
	// Few says whether Names holds every matching actor: at most
	// auditActorRanges of them (none when nobody matches).
	Few bool
}

// matchAuditActors finds the actors whose name contains part.
func (s *Store) matchAuditActors(ctx context.Context, part string) (auditActors, error) {
	var names []string
	err := s.db.WithContext(ctx).Model(&auditActor{}).Where(`actor LIKE ? ESCAPE '\'`, likeContains(part)).
		Order("actor").Limit(auditActorRanges+1).Pluck("actor", &names).Error
	if err != nil {
		return auditActors{}, fmt.Errorf("matching audit actors: %w", err)
	}
	if len(names) > auditActorRanges {
		return auditActors{}, nil
	}
	return auditActors{Names: names, Few: true}, nil
}
