package grants

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// stateCollector reports the portal's state from the database at each
// scrape: grants by status, pending requests, open offboardings, Okta events
// waiting to be processed.
type stateCollector struct {
	db                                  *gorm.DB
	grants, pending, offboarding, hooks *prometheus.Desc
}

// NewStateCollector returns a Prometheus collector of the portal's state.
func NewStateCollector(s *Store) prometheus.Collector {
	return &stateCollector{
		db:          s.db.DB,
		grants:      prometheus.NewDesc("portal_grants", "Grants by status.", []string{"status"}, nil),
		pending:     prometheus.NewDesc("portal_requests_pending", "Requests waiting for a decision.", nil, nil),
		offboarding: prometheus.NewDesc("portal_offboardings_open", "Offboardings whose policy removal is not confirmed yet.", nil, nil),
		hooks:       prometheus.NewDesc("portal_okta_events_pending", "Okta events received and not processed yet.", nil, nil),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.grants
	ch <- c.pending
	ch <- c.offboarding
	ch <- c.hooks
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db := c.db.WithContext(ctx)
	var rows []struct {
		Status string
		N      int64
	}
	if err := db.Model(&Grant{}).Select("status, count(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		slog.Warn("collecting grant metrics", "err", err)
		return
	}
	counts := map[string]int64{GrantActive: 0, GrantExpired: 0, GrantRevoked: 0}
	for _, r := range rows {
		counts[r.Status] = r.N
	}
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.grants, prometheus.GaugeValue, float64(n), status)
	}
	var pending, open, events int64
	db.Model(&Request{}).Where("status = ?", RequestPending).Count(&pending)
	db.Model(&Offboarding{}).Where("ended_at IS NULL AND policy_confirmed_at IS NULL").Count(&open)
	db.Model(&OktaEvent{}).Where("processed_at IS NULL").Count(&events)
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(c.offboarding, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(c.hooks, prometheus.GaugeValue, float64(events))
}
