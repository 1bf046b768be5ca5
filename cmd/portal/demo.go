package main

import (
	"context"
	_ "embed"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/oktafake"
	"github.com/accessportal/portal/sync/slackfake"
	"github.com/accessportal/portal/sync/tailnetfake"
)

//go:embed demo/catalog.hujson
var demoCatalog []byte

//go:embed demo/policy.hujson
var demoPolicy []byte

// demoPerson is one person of the simulated Okta org.
type demoPerson struct {
	first, last, email, status string
	groups                     []string
}

var demoPeople = []demoPerson{
	{"Alice", "Admin", "alice@example.com", grants.StatusActive, []string{"Portal Admins", "Engineering"}},
	{"Bob", "Builder", "bob@example.com", grants.StatusActive, []string{"Engineering"}},
	{"Carol", "Checker", "carol@example.com", grants.StatusActive, []string{"Security"}},
	{"Dave", "Oncall", "dave@example.com", grants.StatusActive, []string{"Engineering", "SRE", "On-Call"}},
	{"Erin", "Engineer", "erin@example.com", grants.StatusActive, []string{"Engineering"}},
	{"Frank", "Former", "frank@example.com", grants.StatusSuspended, []string{"Engineering"}},
}

func runDemo(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "demo", "demo [--addr 127.0.0.1:8080] [--data ./data] [--okta-addr ADDR] [--tailnet-addr ADDR]\n\nRuns the portal on loopback with a simulated Okta org and a simulated tailnet.")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address of the portal")
	data := fs.String("data", "data", "directory for the SQLite database")
	interval := fs.Duration("sync-interval", 5*time.Second, "how often the simulated Okta is polled")
	oktaAddr := fs.String("okta-addr", "", "listen address of the simulated Okta (default: a free loopback port)")
	tailnetAddr := fs.String("tailnet-addr", "", "listen address of the simulated tailnet (default: a free loopback port)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(rest); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if host == "::" || host == "0.0.0.0" || host == "" {
		host = "127.0.0.1"
	}
	baseURL := "http://" + net.JoinHostPort(host, port)

	const oktaToken, clientID, clientSecret, tsKey, hookSecret = "demo-okta-token", "portal-demo", "demo-client-secret", "tskey-api-demo", "demo-hook-secret"
	// The simulated tailnet's webhook (policyUpdate) points at the portal,
	// so a "push from git" on its page is repaired at once.
	const tsWebhookSecret = "tskey-webhook-demo"
	okta, oktaURL, closeOkta, err := oktafake.Start(oktafake.Options{
		APIToken: oktaToken,
		Clients:  []oktafake.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{baseURL + "/auth/callback"}}},
		Addr:     *oktaAddr,
	})
	if err != nil {
		ln.Close()
		return fmt.Errorf("starting the simulated Okta: %w", err)
	}
	defer closeOkta()
	seedDemoOkta(okta)
	tailnet, tailnetURL, closeTailnet, err := tailnetfake.Start(tailnetfake.Options{
		Tailnet: "example.com", APIKeys: []string{tsKey}, Policy: demoPolicy, Addr: *tailnetAddr,
		Webhook: &tailnetfake.Webhook{URL: baseURL + "/hooks/tailscale", Secret: tsWebhookSecret, BatchWindow: time.Second},
	})
	if err != nil {
		ln.Close()
		return fmt.Errorf("starting the simulated tailnet: %w", err)
	}
	defer closeTailnet()
	for _, p := range demoPeople {
		tailnet.AddUser(p.email)
	}
	_, pagerdutyURL, closePagerDuty, err := startDemoPagerDuty(time.Now())
	if err != nil {
		ln.Close()
		return err
	}
	defer closePagerDuty()

	slackWS, slackURL, closeSlack, err := startDemoSlack()
	if err != nil {
		ln.Close()
		return err
	}
	defer closeSlack()

	cfg := &config{
		Addr: ln.Addr().String(), BaseURL: baseURL,
		DatabaseURL:  "sqlite:" + filepath.Join(*data, "portal.db"),
		SyncInterval: *interval,
		OktaOrgURL:   oktaURL, OktaAPIToken: oktaToken, OktaHookSecret: hookSecret,
		OIDCIssuer: oktaURL, OIDCClientID: clientID, OIDCClientSecret: clientSecret,
		TailscaleAPIURL: tailnetURL, TailscaleTailnet: "-", TailscaleAPIKey: tsKey,
		PagerDutyToken: demoPagerDutyToken, PagerDutyAPIURL: pagerdutyURL,
		SlackBotToken: demoSlackToken, SlackSigningSecret: demoSlackSecret, SlackAPIURL: slackURL + "/api/",
		SlackChannel: slackWS.ChannelID("access-requests"),
	}
	cfg.TailscaleWebhookSecret = tsWebhookSecret
	slackWS.SetPortal(baseURL+"/slack/commands", baseURL+"/slack/interactions")
	a, err := newApp(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	if c := a.catalog.Current(); len(c.Groups) == 0 && len(c.Resources) == 0 {
		if _, err := a.catalog.Replace(ctx, "demo catalog", demoCatalog, "", "demo", time.Now()); err != nil {
			ln.Close()
			a.db.Close()
			return fmt.Errorf("installing the demo catalog: %w", err)
		}
	}
	// Like a real org's event hook: every change in the simulated Okta reaches
	// the portal at once (the poll stays as the backstop).
	okta.AddEventHook(baseURL+"/hooks/okta", hookSecret)
	fmt.Fprintf(env.stderr, `
Access portal demo
  portal:             %s
  simulated Okta:     %s   (deactivate people, change groups)
  simulated tailnet:  %s   (the policy file the portal keeps in sync)
  simulated PagerDuty: %s  (`+demoOnCall+` is on call in schedule `+demoPagerDutySchedule+`; put people on or off call there: on call, a prod-db request is approved at once)
  simulated Slack:    %s   (type /access as anyone, approve from the messages)
  database:           %s

`, baseURL, oktaURL, tailnetURL, pagerdutyURL, slackURL, cfg.DatabaseURL)
	printDemoPeople(ctx, env.stderr, grants.NewStore(a.db), baseURL, time.Now())
	fmt.Fprintln(env.stderr, "\nPress Ctrl-C to stop.")
	fmt.Fprintln(env.stdout, baseURL)
	return a.run(ctx, ln)
}

// seedDemoOkta fills the simulated Okta org with the demo people and groups.
func seedDemoOkta(okta *oktafake.Server) {
	groups := map[string]string{}
	for _, name := range []string{"Portal Admins", "Engineering", "Security", "SRE", "On-Call", "Finance"} {
		groups[name] = okta.AddGroup(name, name+" (demo)")
	}
	for _, p := range demoPeople {
		id := okta.AddUser(oktafake.User{Login: p.email, Email: p.email, FirstName: p.first, LastName: p.last, Status: p.status, Title: demoRoles[p.email]})
		for _, g := range p.groups {
			okta.AddMember(groups[g], id)
		}
	}
}

// The demo Slack app's credentials (the simulated workspace checks them).
const demoSlackToken, demoSlackSecret = "xoxb-demo-slack", "demo-slack-signing-secret"

// startDemoSlack starts the simulated Slack workspace with the demo people
// (same emails as the simulated Okta, so Frank, suspended there, is
// refused) and its #access-requests channel.
func startDemoSlack() (*slackfake.Server, string, func(), error) {
	ws, wsURL, stop, err := slackfake.Start(slackfake.Options{BotToken: demoSlackToken, SigningSecret: demoSlackSecret})
	if err != nil {
		return nil, "", nil, fmt.Errorf("starting the simulated Slack: %w", err)
	}
	for _, p := range demoPeople {
		ws.AddUser(slackfake.User{Name: strings.ToLower(p.first), RealName: p.first + " " + p.last, Email: p.email})
	}
	return ws, wsURL, stop, nil
}
