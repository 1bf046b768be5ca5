package web

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"github.com/accessportal/portal/grants/nesting"
	"io"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
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
	var d hookDelivery
	raw, err := io.ReadAll(body)
	if err == nil {
		err = nesting.Check(raw, nesting.Max)
	}
	if err == nil {
		err = json.Unmarshal(raw, &d)
	}
	if err != nil {
		s.metrics.hooks.WithLabelValues("invalid").Inc()
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return httpError(http.StatusRequestEntityTooLarge, "event hook delivery too large")
		}
		return httpError(http.StatusBadRequest, "invalid event hook delivery: "+err.Error())
	}
	now := s.now()
	events := make([]grants.OktaEvent, 0, len(d.Data.Events))
	for _, e := range d.Data.Events {
		if e.UUID == "" || e.EventType == "" {
			s.metrics.hooks.WithLabelValues("invalid").Inc()
			return httpError(http.StatusBadRequest, "invalid event hook delivery: an event lacks uuid or eventType")
		}
		targets, _ := json.Marshal(e.Target)
		published := e.Published.UTC()
		if published.IsZero() {
			published = now.UTC()
		}
		events = append(events, grants.OktaEvent{UUID: e.UUID, EventType: e.EventType, Published: published, Targets: string(targets), ReceivedAt: now.UTC()})
	}
	n, err := s.store.StoreOktaEvents(c.Request().Context(), events)
	if err != nil {
		return err
	}
	s.metrics.hooks.WithLabelValues("accepted").Inc()
	slog.InfoContext(c.Request().Context(), "okta event hook delivery", "event_id", d.EventID, "events", len(events), "new", n)
	if n > 0 && s.opts.OnOktaEvents != nil {
		s.opts.OnOktaEvents()
	}
	return c.NoContent(http.StatusOK)
}
