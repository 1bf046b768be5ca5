package reconcile

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics of the reconciler.
type Metrics struct {
	Passes       *prometheus.CounterVec
	PassDuration prometheus.Histogram
	Writes       prometheus.Counter
	Conflicts    prometheus.Counter
	Drift        prometheus.Counter
	Holds        prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg (when not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_reconcile_passes_total", Help: "Reconcile passes, by result (ok or error).",
		}, []string{"result"}),
		PassDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "portal_reconcile_duration_seconds", Help: "Duration of reconcile passes.", Buckets: prometheus.DefBuckets,
		}),
		Writes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_policy_writes_total", Help: "Tailnet policy writes that succeeded.",
		}),
		Conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_policy_conflicts_total", Help: "Policy writes refused with 412 because the policy changed underneath, then retried.",
		}),
		Drift: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_policy_drift_total", Help: "Hand edits of managed groups found and undone.",
		}),
		Holds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_sync_holds_total", Help: "Synced groups held by the mass-removal brake.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Passes, m.PassDuration, m.Writes, m.Conflicts, m.Drift, m.Holds)
	}
	return m
}

func (m *Metrics) observePass(d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.Passes.WithLabelValues(result).Inc()
	m.PassDuration.Observe(d.Seconds())
}
