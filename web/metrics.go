package web

import (
	"log/slog"
	"net/http"
	"strconv"
	gosync "sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics counts and times HTTP requests by route.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	hooks    *prometheus.CounterVec
	// hookEventsSkipped counts malformed events skipped in authentic
	// Okta event hook deliveries.
	hookEventsSkipped prometheus.Counter
	// tailscaleHooks counts Tailscale webhook deliveries by result.
	tailscaleHooks *prometheus.CounterVec

	routesOnce gosync.Once
	routes     map[string]bool // the registered route patterns
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_requests_total",
			Help: "HTTP requests served, by method, route and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portal_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by method and route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	m.hooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portal_okta_hook_deliveries_total",
		Help: "Okta event hook deliveries, by result (accepted, refused, invalid).",
	}, []string{"result"})
	m.hookEventsSkipped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "portal_okta_hook_events_skipped_total",
		Help: "Malformed events skipped in authentic Okta event hook deliveries (the rest of each delivery is stored).",
	})
	m.tailscaleHooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portal_tailscale_webhook_deliveries_total",
		Help: "Tailscale webhook deliveries, by result (accepted, refused, invalid).",
	}, []string{"result"})
	reg.MustRegister(m.requests, m.duration, m.hooks, m.hookEventsSkipped, m.tailscaleHooks)
	return m
}

func (m *httpMetrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := m.routeLabel(c)
		method := methodLabel(c.Request().Method)
		elapsed := time.Since(start)
		status := c.Response().Status
		m.requests.WithLabelValues(method, route, codeLabel(status)).Inc()
		m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
		switch route {
		case "/healthz", "/readyz", "/metrics", "/static/:name":
		default:
			slog.InfoContext(c.Request().Context(), "request", "method", c.Request().Method, "path", c.Request().URL.Path,
				"status", status, "duration", elapsed, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		}
		return nil
	}
}

// methodLabel is the request's method when it is a standard one, "other"
// otherwise: a client choosing the method never adds a label value.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// codeLabel is the status code when it is a valid one, "other" otherwise.
func codeLabel(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status)
}

// routeLabel is the pattern of the route that served c when it is one the
// server registered, "unmatched" otherwise.
func (m *httpMetrics) routeLabel(c echo.Context) string {
	m.routesOnce.Do(func() {
		m.routes = map[string]bool{}
		for _, r := range c.Echo().Routes() {
			m.routes[r.Path] = true
		}
	})
	if route := c.Path(); m.routes[route] {
		return route
	}
	return "unmatched"
}
