package web

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/nesting"
)

// oktaHookDeliver stores a delivery durably and answers 200 at once; the
// events are processed after, by the background loop.
func (s *Server) oktaHookDeliver(c echo.Context) error {
	secret := s.opts.OktaHookSecret
	got := c.Request().Header.Get(echo.HeaderAuthorization)
	if secret == "" {
		s.metrics.hooks.WithLabelValues("refused").Inc()
		return httpError(http.StatusUnauthorized, "event hooks are refused: OKTA_HOOK_SECRET is not set")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
		s.metrics.hooks.WithLabelValues("refused").Inc()
		return httpError(http.StatusUnauthorized, "wrong or missing Authorization header")
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxHookBody)
	raw, err := io.ReadAll(body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.metrics.hooks.WithLabelValues("invalid").Inc()
		return httpError(http.StatusRequestEntityTooLarge, "event hook delivery too large")
	}
	if err != nil {
		return fmt.Errorf("reading an event hook delivery: %w", err)
	}
	eventID, events, skipped, err := parseHookDelivery(raw, s.now())
	if err != nil {
		s.metrics.hooks.WithLabelValues("invalid").Inc()
		return httpError(http.StatusBadRequest, err.Error())
	}
	if skipped > 0 {
		s.metrics.hookEventsSkipped.Add(float64(skipped))
		slog.WarnContext(c.Request().Context(), "skipped malformed events of an Okta event hook delivery", "event_id", eventID, "skipped", skipped)
	}
	n, err := s.store.StoreOktaEvents(c.Request().Context(), events)
	if err != nil {
		return err
	}
	s.metrics.hooks.WithLabelValues("accepted").Inc()
	slog.InfoContext(c.Request().Context(), "okta event hook delivery", "event_id", eventID, "events", len(events), "skipped", skipped, "new", n)
	if n > 0 && s.opts.OnOktaEvents != nil {
		s.opts.OnOktaEvents()
	}
	return c.NoContent(http.StatusOK)
}

// parseHookDelivery reads an Okta event hook delivery: its id, its events
// as rows to store, received at now, and how many malformed events (not an
// object, no uuid or eventType) were skipped: Okta never retries a 4xx, so
// one bad event must not lose the others. A body that is not a delivery, or
// text nested deeper than nesting.Max, is refused before it is decoded.
func parseHookDelivery(raw []byte, now time.Time) (id string, events []grants.OktaEvent, skipped int, err error) {
	if err := nesting.Check(raw, nesting.Max); err != nil {
		return "", nil, 0, fmt.Errorf("invalid event hook delivery: %w", err)
	}
	var d hookDelivery
	if err := json.Unmarshal(raw, &d); err != nil {
		return "", nil, 0, fmt.Errorf("invalid event hook delivery: %w", err)
	}
	events = make([]grants.OktaEvent, 0, len(d.Data.Events))
	for _, raw := range d.Data.Events {
		e, ok := decodeHookEvent(raw)
		if !ok {
			skipped++
			continue
		}
		targets, err := json.Marshal(e.Target)
		if err != nil {
			skipped++
			continue
		}
		published := e.Published.UTC()
		if published.IsZero() {
			published = now.UTC()
		}
		events = append(events, grants.OktaEvent{UUID: e.UUID, EventType: e.EventType, Published: published, Targets: string(targets), ReceivedAt: now.UTC()})
	}
	return d.EventID, events, skipped, nil
}
