package web

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/sync/tailnet"
)

// maxTailscaleHookBody bounds one Tailscale webhook delivery; a
// policyUpdate carries the old and new policy texts.
const maxTailscaleHookBody = 4 << 20

// tailscaleHookMaxAge is the oldest signature accepted, as Tailscale's
// webhook documentation suggests (https://tailscale.com/kb/1213/webhooks).
const tailscaleHookMaxAge = 5 * time.Minute

// tailscaleHook takes a Tailscale webhook delivery: verified with
// TAILSCALE_WEBHOOK_SECRET (401 otherwise, nothing changes), its
// policyUpdate events only wake the reconciler, which re-reads the policy
// and restores the managed groups. Other event types are acknowledged.
func (s *Server) tailscaleHook(c echo.Context) error {
	ctx := c.Request().Context()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxTailscaleHookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return httpError(http.StatusRequestEntityTooLarge, "webhook delivery too large")
		}
		return httpError(http.StatusBadRequest, "reading webhook delivery: "+err.Error())
	}
	if s.opts.TailscaleWebhookSecret == "" {
		s.metrics.tailscaleHooks.WithLabelValues("refused").Inc()
		return httpError(http.StatusUnauthorized, "webhooks are refused: TAILSCALE_WEBHOOK_SECRET is not set")
	}
	header := c.Request().Header.Get(tailnet.WebhookSignatureHeader)
	if err := tailnet.VerifyWebhook(s.opts.TailscaleWebhookSecret, header, body, s.now(), tailscaleHookMaxAge); err != nil {
		s.metrics.tailscaleHooks.WithLabelValues("refused").Inc()
		slog.WarnContext(ctx, "refused a Tailscale webhook delivery", "err", err)
		return httpError(http.StatusUnauthorized, err.Error())
	}
	events, err := tailnet.ParseWebhookEvents(body)
	if err != nil {
		s.metrics.tailscaleHooks.WithLabelValues("invalid").Inc()
		return httpError(http.StatusBadRequest, err.Error())
	}
	s.metrics.tailscaleHooks.WithLabelValues("accepted").Inc()
	for _, e := range events {
		if e.Type != tailnet.EventPolicyUpdate {
			continue
		}
		slog.InfoContext(ctx, "the tailnet policy changed; reconciling", "actor", e.Actor(), "at", e.Timestamp)
		if s.opts.OnPolicyUpdate != nil {
			s.opts.OnPolicyUpdate(e.Actor())
		}
	}
	return c.NoContent(http.StatusOK)
}
