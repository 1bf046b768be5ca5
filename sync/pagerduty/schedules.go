package pagerduty

import (
	"context"
	"errors"
	"fmt"

	"github.com/PagerDuty/go-pagerduty"
)

// CheckSchedules asks PagerDuty for each schedule (GET /schedules/{id},
// "Get a schedule") and returns the ids it does not know (404). An id that
// is not shaped like a PagerDuty id (letters and digits) is unknown
// without asking. The whole check is bounded like a lookup; an error means
// PagerDuty could not be asked, and the catalog should warn rather than
// refuse.
func (c *Client) CheckSchedules(ctx context.Context, ids []string) (unknown []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	for _, id := range normalizeIDs(ids) {
		if !wellFormedID(id) {
			unknown = append(unknown, id)
			continue
		}
		known, err := c.scheduleExists(ctx, id)
		if err != nil {
			c.noteResult(err)
			return nil, fmt.Errorf("checking PagerDuty schedule %s: %w", id, err)
		}
		if !known {
			unknown = append(unknown, id)
		}
	}
	c.noteResult(nil)
	return unknown, nil
}

func (c *Client) scheduleExists(ctx context.Context, id string) (bool, error) {
	err := c.call(ctx, func(ctx context.Context) error {
		_, err := c.api.GetScheduleWithContext(ctx, id, pagerduty.GetScheduleOptions{})
		return err
	})
	var e *Error
	if errors.As(err, &e) && e.Status == 404 {
		return false, nil
	}
	return err == nil, err
}

// wellFormedID reports whether id can be put in a URL path as is.
func wellFormedID(id string) bool {
	for _, r := range id {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return id != "" && len(id) <= 64
}
