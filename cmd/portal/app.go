package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	gosync "sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/sync/okta"
	"github.com/accessportal/portal/sync/pagerduty"
	"github.com/accessportal/portal/sync/reconcile"
	"github.com/accessportal/portal/sync/slack"
	"github.com/accessportal/portal/sync/tailnet"
	"github.com/accessportal/portal/web"
)

// app is one running portal: database, catalog, Okta, tailnet, the
// background loops and the web server.
type app struct {
	cfg        *config
	db         *database.DB
	store      *grants.Store
	catalog    *grants.CatalogStore
	directory  *okta.Directory
	reconciler *reconcile.Reconciler
	tailnet    *tailnet.Client
	poller     *okta.Poller
	events     *okta.EventProcessor
	sweeper    *grants.Sweeper
	notifier   *grants.Notifier
	web        *web.Server
	registry   *prometheus.Registry
	holder     string
	leaseHeld  prometheus.Gauge
	// pagerduty answers on-call lookups; nil without PAGERDUTY_API_TOKEN.
	pagerduty *pagerduty.Client
}

// newApp opens everything the configuration names. It applies migrations.
func newApp(ctx context.Context, cfg *config) (*app, error) {
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 10 * time.Second
	}
	if cfg.RequestTTL == 0 {
		cfg.RequestTTL = 24 * time.Hour
	}
	db, err := database.Open(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, db: db, store: grants.NewStore(db), registry: prometheus.NewRegistry()}
	if err := a.init(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) init(ctx context.Context) error {
	cfg := a.cfg
	if err := a.db.Migrate(ctx); err != nil {
		return err
	}
	if err := a.store.UseAuditKey(ctx, cfg.AuditKey); err != nil {
		return fmt.Errorf("PORTAL_AUDIT_KEY: %w", err)
	}
	var err error
	if a.catalog, err = a.store.OpenCatalogStore(ctx, cfg.CatalogPath); err != nil {
		return err
	}
	a.directory, err = okta.New(okta.Config{
		OrgURL: cfg.OktaOrgURL, APIToken: cfg.OktaAPIToken, LoginAttribute: cfg.TailscaleLogin,
		ClientID: cfg.OktaClientID, PrivateKey: cfg.OktaPrivateKey, PrivateKeyID: cfg.OktaPrivateKeyID,
	})
	if err != nil {
		return fmt.Errorf("OKTA_ORG_URL: %w", err)
	}
	a.catalog.SetOktaGroupLookup(a.directory.GroupNamed)
	a.tailnet, err = tailnet.New(tailnet.Config{
		APIURL: cfg.TailscaleAPIURL, Tailnet: cfg.TailscaleTailnet, APIKey: cfg.TailscaleAPIKey,
		OAuthClientID: cfg.TailscaleOAuthClientID, OAuthClientSecret: cfg.TailscaleOAuthClientSecret,
	})
	if err != nil {
		return err
	}
	if err := a.openPagerDuty(); err != nil {
		return fmt.Errorf("PAGERDUTY_API_TOKEN: %w", err)
	}
	a.leaseHeld = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "portal_lease_held", Help: "1 when this replica holds the lease and runs the reconciler, poller and sweeper.",
	})
	a.registry.MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		grants.NewStateCollector(a.store), a.leaseHeld,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "portal_okta_requests_total", Help: "HTTP requests made to the Okta API, retries included."},
			func() float64 { return float64(a.directory.Calls()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "portal_okta_rate_limited_total", Help: "Okta API requests answered with 429."},
			func() float64 { return float64(a.directory.RateLimited()) }),
	)
	a.reconciler = reconcile.New(reconcile.Options{
		Store: a.store, Catalog: a.catalog.Current, Policy: a.tailnet, Metrics: reconcile.NewMetrics(a.registry),
		Devices: a.tailnet, PostureEvery: cfg.SyncInterval, Resync: min(time.Minute, cfg.SyncInterval),
		Watch: cfg.PolicyWatch,
	})
	a.poller = okta.NewPoller(okta.PollerOptions{
		Store: a.store, Directory: a.directory, Catalog: a.catalog.Current, Interval: cfg.SyncInterval,
		OnChange: func(okta.PollResult) { a.directoryChanged(context.Background()) },
		OnEvents: func() { a.events.Notify() },
	})
	a.events = okta.NewEventProcessor(okta.EventProcessorOptions{
		Store: a.store, Directory: a.directory, Poll: a.poller.Poke, Stored: a.reconciler.Wake, AfterBatch: a.offboard,
	})
	slackApp := a.slackApp()
	notify := grants.NotifierOptions{Store: a.store, WebhookURL: cfg.NotifyWebhook, BaseURL: cfg.BaseURL, Registry: a.registry}
	if slackApp != nil {
		// Grants confirmed in the tailnet are announced within seconds.
		notify.Slack, notify.SlackChannel, notify.MaxSleep = slackApp.Client, cfg.SlackChannel, 2*time.Second
	}
	a.notifier = grants.NewNotifier(notify)
	a.sweeper = grants.NewSweeper(grants.SweeperOptions{Store: a.store, RequestTTL: cfg.RequestTTL, Wake: a.reconciler.Wake})
	host, _ := os.Hostname()
	a.holder = fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())
	a.web, err = web.New(web.Options{
		DB: a.db, BaseURL: cfg.BaseURL, Catalog: a.catalog.Current, CatalogSource: a.catalog.Source, Registry: a.registry,
		// A change of requests or grants wakes the reconciler (membership),
		// the sweeper (a nearer expiry) and the notifier (queued messages).
		// Other replicas hear of it through the database (PostgreSQL NOTIFY).
		Wake:           func() { a.wakeLoops(); a.publish() },
		OIDC:           &web.OIDCConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret},
		OktaHookSecret: cfg.OktaHookSecret,
		OnOktaEvents:   func() { a.events.Notify(); a.publish() },
		CatalogStore:   a.catalog,
		PreviewCatalog: a.reconciler.PlanFor,
		OktaAdminURL:   cfg.OktaOrgURL,
		Policy:         func(ctx context.Context) ([]byte, error) { p, err := a.tailnet.ReadPolicy(ctx); return p.Text, err },

		// On-call approval (PagerDuty); all nil without PAGERDUTY_API_TOKEN.
		OnCall: a.onCallChecker(), CheckSchedules: a.scheduleChecker(), PagerDutyStatus: a.pagerDutyStatus(),
		// A policyUpdate webhook: re-read the policy and restore the
		// managed groups at once, the drift audited with its author.
		TailscaleWebhookSecret: cfg.TailscaleWebhookSecret,
		OnPolicyUpdate:         a.reconciler.RefreshBy,
		Evidence:               a.writeEvidence,
		Integrations:           (&integrationProbe{a: a, ttl: time.Minute}).Report,
		Slack:                  slackApp,
	})
	return err
}

// slackApp is the Slack app the configuration names, or nil.
func (a *app) slackApp() *web.SlackApp {
	if a.cfg.SlackBotToken == "" {
		return nil
	}
	return &web.SlackApp{
		Client:   slack.NewClient(a.cfg.SlackBotToken, slack.WithAPIURL(a.cfg.SlackAPIURL)),
		Verifier: slack.Verifier{Secret: a.cfg.SlackSigningSecret},
	}
}

// wakeLoops wakes every background loop of this process: whatever changed,
// each looks at the database again.
func (a *app) wakeLoops() {
	a.reconciler.Wake()
	a.sweeper.Wake()
	a.notifier.Wake()
	a.events.Notify()
}

// publish tells the replica holding the lease that something changed.
func (a *app) publish() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.db.Publish(ctx); err != nil {
		slog.Warn("waking the other replicas", "err", err)
	}
}

// directoryChanged runs after a poll changed the directory snapshot: a
// reconcile at once, then the offboarding cascade. (Okta events wake the
// reconciler as each re-read user is stored, and then run the cascade.)
func (a *app) directoryChanged(ctx context.Context) {
	// The desired state leaves out whoever the snapshot says departed: their
	// removal from the tailnet need not wait for the cascade's bookkeeping.
	a.reconciler.Wake()
	a.offboard(ctx)
}

// offboard runs the offboarding cascade for people who left, then a
// reconcile to record its revocations.
func (a *app) offboard(ctx context.Context) {
	a.store.OffboardDepartedWithDevices(ctx, a.catalog.Current(), a.tailnet, time.Now)
	a.reconciler.WakeAgain()
	a.sweeper.Wake()
}

// run serves HTTP on ln and runs the background loops under the database
// lease until ctx ends, then shuts down gracefully.
func (a *app) run(ctx context.Context, ln net.Listener) error {
	defer a.db.Close()
	srv := &http.Server{
		Handler:           a.web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // audit exports stream for a while
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	go a.catalog.Watch(ctx, 5*time.Second, a.catalogChanged)
	go a.checkCatalogSchedules(ctx)
	go a.store.LogAuditCheckpoints(ctx, 10*time.Minute)

	loops, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	loopsDone := make(chan struct{})
	go func() {
		defer close(loopsDone)
		a.store.RunUnderLease(loops, grants.LeaseOptions{Name: "background", Holder: a.holder, TTL: a.cfg.LeaseTTL,
			OnChange: func(held bool) {
				if held {
					a.leaseHeld.Set(1)
				} else {
					a.leaseHeld.Set(0)
				}
			}},
			func(ctx context.Context) {
				// Catch up with whatever happened while no replica held the lease.
				a.directoryChanged(ctx)
				var wg gosync.WaitGroup
				for _, loop := range []func(context.Context){
					a.reconciler.Run, a.poller.Run, a.events.Run, a.sweeper.Run, a.notifier.Run,
					func(ctx context.Context) { a.store.CleanSessions(ctx, time.Hour, time.Now) },
					func(ctx context.Context) { a.db.Listen(ctx, a.wakeLoops) },
					a.watchOnCall,
				} {
					wg.Go(func() { loop(ctx) })
				}
				wg.Wait()
			})
	}()

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serving HTTP: %w", err)
	}
	slog.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		slog.Warn("HTTP shutdown", "err", serr)
	}
	stopLoops() // the current pass finishes its step; the lease is released
	select {
	case <-loopsDone:
	case <-shutdownCtx.Done():
		slog.Warn("background loops did not stop in time")
	}
	return err
}

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "serve", "serve\n\nRuns the portal with configuration from the environment (see README).")
	a, err := openApp(ctx, env, fs, args)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		a.db.Close()
		return fmt.Errorf("PORTAL_ADDR: %w", err)
	}
	slog.Info("portal serving", "addr", ln.Addr().String(), "base_url", a.cfg.BaseURL, "catalog", a.catalog.Source())
	return a.run(ctx, ln)
}

// openApp parses a command's flags (it takes no arguments), reads the
// configuration from the environment and opens the portal.
func openApp(ctx context.Context, env *cliEnv, fs *flag.FlagSet, args []string) (*app, error) {
	rest, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if err := wantArgs(rest); err != nil {
		return nil, err
	}
	cfg, err := loadConfig(env.getenv)
	if err != nil {
		return nil, err
	}
	return newApp(ctx, cfg)
}

// catalogChanged runs after the catalog changed (here or on another
// replica): the poller reads the Okta groups it may newly name and the
// reconciler applies it.
func (a *app) catalogChanged() {
	a.poller.Poke(false)
	a.reconciler.Wake()
}
