package pagerduty

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	calls       *prometheus.CounterVec
	lastSuccess prometheus.Gauge
}

// newMetrics creates the metrics and registers them with reg when not nil:
//
//	portal_pagerduty_calls_total{outcome}            PagerDuty API calls by outcome
//	portal_pagerduty_last_success_timestamp_seconds  when a lookup last succeeded
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_pagerduty_calls_total",
			Help: "PagerDuty API calls, by outcome (ok, timeout, unreachable, rate_limited, server_error, refused, not_found, bad_request, bad_answer).",
		}, []string{"outcome"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portal_pagerduty_last_success_timestamp_seconds",
			Help: "Unix time of the last PagerDuty lookup that succeeded.",
		}),
	}
	for _, o := range outcomes {
		m.calls.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.lastSuccess)
	}
	return m
}

func (m *metrics) call(outcome string) {
	m.calls.WithLabelValues(outcome).Inc()
}
