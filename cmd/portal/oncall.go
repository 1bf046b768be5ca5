package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/pagerduty"
)

// openPagerDuty builds the PagerDuty client for on-call approval when
// PAGERDUTY_API_TOKEN is set (nil otherwise), with its metrics and
// portal_pagerduty_up.
func (a *app) openPagerDuty() error {
	if a.cfg.PagerDutyToken == "" {
		return nil
	}
	pd, err := pagerduty.New(pagerduty.Options{Token: a.cfg.PagerDutyToken, APIURL: a.cfg.PagerDutyAPIURL, Registerer: a.registry})
	if err != nil {
		return err
	}
	a.pagerduty = pd
	a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portal_pagerduty_up", Help: "1 when the last PagerDuty lookup succeeded (or none was made yet), 0 when PagerDuty could not be asked: nobody is approved by on-call.",
	}, func() float64 {
		if pd.Status().Up() {
			return 1
		}
		return 0
	}))
	a.store = a.store.WithOnCall(pagerduty.Approver{Client: pd})
	return nil
}

// onCallChecker answers the web server's on-call lookups; nil without
// PagerDuty.
func (a *app) onCallChecker() grants.OnCallChecker {
	if a.pagerduty == nil {
		return nil
	}
	return pagerduty.Approver{Client: a.pagerduty}
}

// scheduleChecker checks a catalog's schedules for the web server; nil
// without PagerDuty.
func (a *app) scheduleChecker() func(context.Context, []string) ([]string, error) {
	if a.pagerduty == nil {
		return nil
	}
	return a.pagerduty.CheckSchedules
}

// pagerDutyStatus is PagerDuty's state for the dashboard; nil without
// PagerDuty.
func (a *app) pagerDutyStatus() func() pagerduty.Status {
	if a.pagerduty == nil {
		return nil
	}
	return a.pagerduty.Status
}

// checkCatalogSchedules warns, at start-up, about onCall schedules
// PagerDuty does not know, or that it could not be asked about.
func (a *app) checkCatalogSchedules(ctx context.Context) {
	if a.pagerduty == nil {
		return
	}
	var ids []string
	for _, r := range a.catalog.Current().Resources {
		if r.OnCall != nil {
			ids = append(ids, r.OnCall.PagerDutySchedules...)
		}
	}
	if len(ids) == 0 {
		return
	}
	unknown, err := a.pagerduty.CheckSchedules(ctx, ids)
	switch {
	case err != nil:
		slog.Warn("catalog: PagerDuty schedules not checked", "err", err)
	case len(unknown) > 0:
		slog.Warn("catalog: PagerDuty has no such schedule; nobody is approved through it", "schedules", unknown)
	}
}

// onCallCheckEvery is how often grants approved by on-call are checked
// against PagerDuty: within PORTAL_SYNC_INTERVAL, at least every minute.
func onCallCheckEvery(syncInterval time.Duration) time.Duration {
	return min(syncInterval, time.Minute)
}

// watchOnCall ends, on every tick until ctx ends, the grants of people
// taken off call early, and wakes the reconciler when it ended some. While
// PagerDuty cannot be asked the grants run on until their expiresAt.
func (a *app) watchOnCall(ctx context.Context) {
	if a.pagerduty == nil {
		return
	}
	t := time.NewTicker(onCallCheckEvery(a.cfg.SyncInterval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ended, err := a.store.EndOffCallGrants(ctx, time.Now())
		if err != nil {
			slog.Warn("checking on-call grants", "err", err)
		}
		if len(ended) > 0 {
			slog.Info("ended grants of people no longer on call", "grants", len(ended))
			a.reconciler.Wake()
			a.notifier.Wake()
		}
	}
}
