package grants_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/slack"
	"github.com/accessportal/portal/sync/slackfake"
)

// workspace is a simulated Slack workspace with the cast as members.
type workspace struct {
	*slackfake.Server
	url string
	ids map[string]string // name → Slack user id
}

func newWorkspace(t *testing.T) *workspace {
	t.Helper()
	s, url, stop, err := slackfake.Start(slackfake.Options{BotToken: "xoxb-test", SigningSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	w := &workspace{Server: s, url: url, ids: map[string]string{}}
	for _, p := range cast {
		w.ids[p.name] = s.AddUser(slackfake.User{Name: p.name, Email: p.name + "@example.com"})
	}
	return w
}

func slackNotifier(db *database.DB, apiURL string, clock *fakeClock, reg prometheus.Registerer) *grants.Notifier {
	return grants.NewNotifier(grants.NotifierOptions{
		Store: grants.NewStore(db), Slack: slack.NewClient("xoxb-test", slack.WithAPIURL(apiURL)),
		Clock: clock.Now, After: clock.After, Registry: reg,
	})
}

func dmTexts(w *workspace, name string) []string {
	var out []string
	for _, m := range w.DirectMessages(w.ids[name]) {
		var v any
		json.Unmarshal(m.Blocks, &v)
		out = append(out, m.Text+" "+fmt.Sprint(v))
	}
	return out
}

func TestSlackDeliveryHonoursRetryAfterAndNeverPostsTwice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		w := newWorkspace(t)
		clock := newFakeClock(t0)
		reg := prometheus.NewRegistry()
		n := slackNotifier(db, w.url+"/api/", clock, reg)
		j.request(t, "bob", "prod-db", 2*time.Hour, t0)

		w.RateLimitNext("chat.postMessage", 7*time.Second)
		next, err := n.Deliver(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !next.Equal(t0.Add(7 * time.Second)) {
			t.Errorf("after a 429 with Retry-After: 7 the next try is at %s, want +7s", next)
		}
		clock.Advance(7 * time.Second)
		if _, err := n.Deliver(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"carol", "sam"} {
			if got := dmTexts(w, who); len(got) != 1 || !strings.Contains(got[0], "Access request 1") {
				t.Errorf("%s's DMs: %q", who, got)
			}
		}
		if got := dmTexts(w, "bob"); len(got) != 0 {
			t.Errorf("the requester was asked to decide: %q", got)
		}
		if got := deliveries(t, reg, "request.pending", "rate_limited"); got != 1 {
			t.Errorf("rate_limited deliveries = %v", got)
		}
		// A delivery retried after it posted (a crash before it was marked
		// sent) posts nothing again.
		db.Model(&grants.Notification{}).Where("kind = ?", grants.NotifyRequestPending).Update("status", grants.DeliveryPending)
		if _, err := n.Deliver(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := len(dmTexts(w, "carol")) + len(dmTexts(w, "sam")); got != 2 {
			t.Errorf("%d DMs after a repeated delivery, want 2", got)
		}
	})
}

func TestSlackDownBlocksNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		clock := newFakeClock(t0)
		reg := prometheus.NewRegistry()
		n := slackNotifier(db, "http://127.0.0.1:1/api/", clock, reg) // nothing listens there
		r := j.request(t, "bob", "prod-db", 2*time.Hour, t0)
		if r := j.approve(t, "carol", r.ID, t0); r.Status != grants.RequestApproved {
			t.Fatalf("approval while Slack is down: %+v", r)
		}
		next, err := n.Deliver(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !next.Equal(t0.Add(30 * time.Second)) {
			t.Errorf("next try at %s, want the +30s backoff", next)
		}
		st, _ := grants.NewStore(db).NotificationHealth(t.Context())
		if st.Retrying == 0 || !strings.Contains(st.LastError, "chat.postMessage") && !strings.Contains(st.LastError, "users.lookupByEmail") {
			t.Errorf("health while Slack is down: %+v", st)
		}
		if got := deliveries(t, reg, "request.decided", "failed"); got != 1 {
			t.Errorf("failed decided deliveries = %v", got)
		}
	})
}

func TestSlackMessagesUpdatedAtTheDecision(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		j := newJIT(t, db)
		w := newWorkspace(t)
		clock := newFakeClock(t0)
		n := slackNotifier(db, w.url+"/api/", clock, nil)
		store := grants.NewStore(db)
		r := j.request(t, "bob", "prod-db", 2*time.Hour, t0)
		n.Deliver(t.Context())

		_, err := store.ApproveRequestWith(t.Context(), j.cat, r.ID, j.people["carol"], grants.ApproveInput{Duration: 5 * time.Hour}, t0)
		if err == nil || !strings.Contains(err.Error(), "duration 5h is longer than the maximum 4h for prod-db") {
			t.Errorf("approval over maxDuration: %v", err)
		}
		got, err := store.ApproveRequestWith(t.Context(), j.cat, r.ID, j.people["carol"], grants.ApproveInput{Comment: "ok", Duration: 30 * time.Minute}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if d := got.Grant.ExpiresAt.Sub(t0); d != 30*time.Minute {
			t.Errorf("grant of %s, want the approver's 30m", d)
		}
		n.Deliver(t.Context())
		for _, who := range []string{"carol", "sam"} {
			dms := dmTexts(w, who)
			if len(dms) != 1 || !strings.Contains(dms[0], "Approved by <@"+w.ids["carol"]+"> for 30m") || strings.Contains(dms[0], "action_id:approve") {
				t.Errorf("%s's request message after the decision: %q", who, dms)
			}
		}
		if dms := dmTexts(w, "bob"); len(dms) != 1 || !strings.Contains(dms[0], "Your request 1 for `prod-db`") {
			t.Errorf("bob's DMs: %q", dms)
		}

		// Ten minutes before the end: the warning with an Extend button.
		clock.Advance(20 * time.Minute)
		n.Deliver(t.Context())
		dms := dmTexts(w, "bob")
		if len(dms) != 2 || !strings.Contains(dms[1], ":hourglass_flowing_sand: Your access to `prod-db`") || !strings.Contains(dms[1], "action_id:extend") {
			t.Errorf("bob's DMs at the expiry warning: %q", dms)
		}
	})
}

// deliveries reads portal_slack_deliveries_total{kind,result}.
func deliveries(t *testing.T, reg *prometheus.Registry, kind, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "portal_slack_deliveries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == kind && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
