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
	eventID, events, err := parseHookDelivery(raw, s.now())
	if err != nil {
		s.metrics.hooks.WithLabelValues("invalid").Inc()
		return httpError(http.StatusBadRequest, err.Error())
	}
	n, err := s.store.StoreOktaEvents(c.Request().Context(), events)
	if err != nil {
		return err
	}
	s.metrics.hooks.WithLabelValues("accepted").Inc()
	slog.InfoContext(c.Request().Context(), "okta event hook delivery", "event_id", eventID, "events", len(events), "new", n)
	if n > 0 && s.opts.OnOktaEvents != nil {
		s.opts.OnOktaEvents()
	}
	return c.NoContent(http.StatusOK)
}

// parseHookDelivery reads an Okta event hook delivery: its id and its
// events as rows to store, received at now. Text nested deeper than
// nesting.Max is refused before it is decoded.
func parseHookDelivery(raw []byte, now time.Time) (string, []grants.OktaEvent, error) {
	if err := nesting.Check(raw, nesting.Max); err != nil {
		return "", nil, fmt.Errorf("invalid event hook delivery: %w", err)
	}
	var d hookDelivery
	if err := json.Unmarshal(raw, &d); err != nil {
		return "", nil, fmt.Errorf("invalid event hook delivery: %w", err)
	}
	events := make([]grants.OktaEvent, 0, len(d.Data.Events))
	for _, e := range d.Data.Events {
		if e.UUID == "" || e.EventType == "" {
			return "", nil, errors.New("invalid event hook delivery: an event lacks uuid or eventType")
		}
		targets, err := json.Marshal(e.Target)
		if err != nil {
			return "", nil, fmt.Errorf("invalid event hook delivery: event %s: %w", e.UUID, err)
		}
		published := e.Published.UTC()
		if published.IsZero() {
			published = now.UTC()
		}
		events = append(events, grants.OktaEvent{UUID: e.UUID, EventType: e.EventType, Published: published, Targets: string(targets), ReceivedAt: now.UTC()})
	}
	return d.EventID, events, nil
}
