package grants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// approverDuration checks the grant length an approver sets: 0 leaves the
// requested duration; anything else must be positive, whole seconds and at
// most the resource's maximum.
func approverDuration(res Resource, d time.Duration) error {
	if d == 0 {
		return nil
	}
	if d < 0 {
		return refuse(ErrInvalid, "duration %s must be positive", formatDuration(d))
	}
	_, err := requestDuration(res, d)
	return err
}

// quorum counts the approvals of req that count now: those of people who
// may approve the resource at this moment (ACTIVE, still in an approver
// group, not the requester). An approval by someone who has since left the
// approver groups or Okta does not count. It also returns the grant's
// length: the shortest duration any counting approver set, else the
// requested one.
func quorum(ctx context.Context, tx *gorm.DB, cat *Catalog, res Resource, req *Request) (int, time.Duration, error) {
	var approvals []Approval
	if err := tx.Where("request_id = ? AND decision = ?", req.ID, DecisionApprove).Order("at, id").Find(&approvals).Error; err != nil {
		return 0, 0, fmt.Errorf("reading approvals of request %d: %w", req.ID, err)
	}
	n, d := 0, req.Duration()
	var shortest time.Duration
	for _, a := range approvals {
		counts, err := mayApproveNow(ctx, tx, cat, res, req, a.Approver)
		if err != nil {
			return 0, 0, err
		}
		if !counts {
			continue
		}
		n++
		if a.DurationSeconds != nil {
			set := time.Duration(*a.DurationSeconds) * time.Second
			if shortest == 0 || set < shortest {
				shortest = set
			}
		}
	}
	if shortest > 0 {
		d = shortest
	}
	return n, d, nil
}

// mayApproveNow reports whether the directory says email may approve req's
// resource now.
func mayApproveNow(ctx context.Context, tx *gorm.DB, cat *Catalog, res Resource, req *Request, email string) (bool, error) {
	if email == req.Requester {
		return false, nil
	}
	p, err := LookupPerson(ctx, tx, email)
	if errors.Is(err, ErrUnknownPerson) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return cat.MayApprove(p, res), nil
}

// autoApproveRule names the autoApprove rule that approved a request at
// once, by the first of the requester's matching Okta groups (sorted):
// "autoApprove: On-Call".
func autoApproveRule(groups []string) string {
	if len(groups) == 0 {
		return ""
	}
	return "autoApprove: " + groups[0]
}
