package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
	"github.com/accessportal/portal/sync/slack"
	"github.com/accessportal/portal/sync/slackfake"
)

// slackPortal is a whole portal whose Slack app is a simulated workspace
// holding the demo people.
type slackPortal struct {
	*runningPortal
	slack    *slackfake.Server
	channel  string            // PORTAL_SLACK_CHANNEL, "" for direct messages
	slackAPI string            // the workspace's Web API base
	ids      map[string]string // email → Slack user id
}

const slackSecret = "slack-signing-secret"

// startSlackPortal starts the simulated workspace and a portal pointed at
// it; inChannel posts new requests to #access-requests.
func startSlackPortal(t testing.TB, db *database.DB, inChannel bool, latency time.Duration) *slackPortal {
	t.Helper()
	sf, sfURL, stop, err := slackfake.Start(slackfake.Options{BotToken: "xoxb-test", SigningSecret: slackSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	sp := &slackPortal{slack: sf, ids: map[string]string{}, slackAPI: sfURL + "/api/"}
	for _, p := range demoPeople {
		sp.ids[p.email] = sf.AddUser(slackfake.User{Name: strings.ToLower(p.first), RealName: p.first + " " + p.last, Email: p.email})
	}
	if inChannel {
		sp.channel = sf.ChannelID("access-requests")
	}
	sp.runningPortal = startPortalWithCatalog(t, db, time.Hour, demoCatalog, latency, func(c *config) {
		c.SlackBotToken, c.SlackSigningSecret, c.SlackAPIURL, c.SlackChannel = "xoxb-test", slackSecret, sfURL+"/api/", sp.channel
	})
	sf.SetPortal(sp.base+"/slack/commands", sp.base+"/slack/interactions")
	// Ready: the directory was read and reconciled once.
	waitFor(t, 20*time.Second, func() bool {
		res, err := http.Get(sp.base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return sp
}

// blocksText is a message's text and blocks as one string (JSON escapes
// undone, so "<@U…>" reads as Slack shows it).
func blocksText(m slackfake.Message) string {
	var v any
	json.Unmarshal(m.Blocks, &v)
	return m.Text + " " + fmt.Sprint(v)
}

// waitMessage waits for a message in a channel or DM whose text holds all
// of want, and returns it.
func (sp *slackPortal) waitMessage(t testing.TB, channel string, want ...string) slackfake.Message {
	t.Helper()
	var found slackfake.Message
	waitFor(t, 30*time.Second, func() bool {
		for _, m := range sp.slack.Messages(channel) {
			if containsAll(blocksText(m), want) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// waitDM waits for a direct message to email holding all of want.
func (sp *slackPortal) waitDM(t testing.TB, email string, want ...string) slackfake.Message {
	t.Helper()
	var found slackfake.Message
	waitFor(t, 30*time.Second, func() bool {
		for _, m := range sp.slack.DirectMessages(sp.ids[email]) {
			if containsAll(blocksText(m), want) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

func containsAll(s string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// lastEphemeral is the latest line the workspace showed email alone.
func (sp *slackPortal) lastEphemeral(email string) string {
	es := sp.slack.Ephemerals(sp.ids[email])
	if len(es) == 0 {
		return ""
	}
	return es[len(es)-1].Text
}

func (sp *slackPortal) request(t testing.TB, id int64) grants.Request {
	t.Helper()
	var r grants.Request
	if err := sp.db.Where("id = ?", id).Take(&r).Error; err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSlackRequestApprovedFromTheChannelMessage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		sp := startSlackPortal(t, db, true, 0)
		bob, carol, erin := "bob@example.com", "carol@example.com", "erin@example.com"

		reply, err := sp.slack.SlashCommand(t.Context(), sp.ids[bob], "prod-db 1h investigating INC-42")
		if err != nil || reply.Status != http.StatusOK {
			t.Fatalf("slash command: %+v, %v", reply, err)
		}
		if want := "Request 1 for prod-db (1h) is pending"; !strings.Contains(reply.Ephemeral, want) {
			t.Fatalf("answer %q, want it to say %q", reply.Ephemeral, want)
		}
		if r := sp.request(t, 1); r.Status != grants.RequestPending || r.Requester != bob || r.Reason != "investigating INC-42" || r.Duration() != time.Hour {
			t.Fatalf("request filed from Slack: %+v", r)
		}

		// Posted to the channel, the approver (Security: carol) @-mentioned.
		msg := sp.waitMessage(t, sp.channel, "Access request 1", "<@"+sp.ids[carol]+">", "approve", "deny")
		if strings.Contains(blocksText(msg), "<@"+sp.ids[bob]+"> ") && strings.Contains(blocksText(msg), "decision from <@"+sp.ids[bob]) {
			t.Errorf("the requester is asked to decide: %s", blocksText(msg))
		}

		// The requester's own click and a non-approver's click change nothing.
		for _, c := range []struct{ who, want string }{
			{bob, "you cannot approve your own request"},
			{"alice@example.com", `requests for prod-db are approved by members of "Security"`}, // an admin, not an approver
			{erin, "no request 1"}, // may not even see it, as in the API
		} {
			reply, err := sp.slack.Click(t.Context(), sp.ids[c.who], sp.channel, msg.TS, slack.ActionApprove)
			if err != nil || reply.Status != http.StatusOK {
				t.Fatalf("%s's click: %+v, %v", c.who, reply, err)
			}
			if got := sp.lastEphemeral(c.who); got != c.want {
				t.Errorf("%s was told %q, want %q", c.who, got, c.want)
			}
			if _, open := sp.slack.OpenView(sp.ids[c.who]); open {
				t.Errorf("a modal opened for %s", c.who)
			}
			if r := sp.request(t, 1); r.Status != grants.RequestPending {
				t.Fatalf("after %s's click the request is %s", c.who, r.Status)
			}
		}
		var refusals []grants.AuditEvent
		db.Where("action = ?", "slack.refuse").Order("id").Find(&refusals)
		if len(refusals) != 3 || !strings.Contains(refusals[0].Details, sp.ids[bob]) || !strings.Contains(refusals[2].Details, sp.ids[erin]) {
			t.Errorf("refusals audited: %+v", refusals)
		}

		// The approver approves for 30 minutes through the modal.
		if _, err := sp.slack.Click(t.Context(), sp.ids[carol], sp.channel, msg.TS, slack.ActionApprove); err != nil {
			t.Fatal(err)
		}
		view, open := sp.slack.OpenView(sp.ids[carol])
		if !open || view.CallbackID != slack.CallbackApprove || view.PrivateMetadata != "1" {
			t.Fatalf("approve modal: %+v, open %t; carol was told %q", view, open, sp.lastEphemeral(carol))
		}
		reply, err = sp.slack.Submit(t.Context(), sp.ids[carol], view.ID, map[string]string{"duration": "30m", "comment": "half an hour is enough"})
		if err != nil || reply.Status != http.StatusOK || len(reply.ViewErrors) > 0 {
			t.Fatalf("submitting the approval: %+v, %v", reply, err)
		}
		r := sp.request(t, 1)
		var g grants.Grant
		if r.Status != grants.RequestApproved || r.GrantID == nil || db.Where("id = ?", *r.GrantID).Take(&g).Error != nil {
			t.Fatalf("after the approval: %+v", r)
		}
		// Grants end on a whole second, rounded up.
		if d := g.ExpiresAt.Sub(g.StartsAt); d < 30*time.Minute || d >= 30*time.Minute+time.Second {
			t.Errorf("grant length %s, want the approver's 30m", d)
		}
		waitFor(t, 20*time.Second, func() bool { return strings.Contains(jitGroup(sp.policyText()), bob) })

		// Every message about the request says who decided; the requester hears.
		sp.waitMessage(t, sp.channel, "Access request 1* is approved", "Approved by <@"+sp.ids[carol]+">", "for 30m")
		for _, m := range sp.slack.Messages(sp.channel) {
			if strings.Contains(blocksText(m), "action_id:approve") {
				t.Errorf("a decided request still has buttons: %s", blocksText(m))
			}
		}
		sp.waitDM(t, bob, "Your request 1 for `prod-db`", "Approved by <@"+sp.ids[carol]+">", "half an hour is enough")
		sp.waitDM(t, bob, ":unlock: Your access to `prod-db` is live")
		var actions int64
		db.Model(&grants.AuditEvent{}).Where("action = ? AND details LIKE ?", "slack.action", "%"+sp.ids[carol]+"%").Count(&actions)
		if actions != 1 {
			t.Errorf("%d slack.action events for carol's approval", actions)
		}
	})
}

func TestSlackRefusesUnsignedAndOldRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		sp := startSlackPortal(t, db, true, 0)
		form := url.Values{"user_id": {sp.ids["bob@example.com"]}, "command": {"/access"}, "text": {"prod-db 1h because"},
			"trigger_id": {"1.2.3"}, "response_url": {"http://127.0.0.1:1/response"}}
		body := []byte(form.Encode())
		goodSig, goodStamp := slack.Sign(slackSecret, time.Now(), body)
		oldSig, oldStamp := slack.Sign(slackSecret, time.Now().Add(-6*time.Minute), body)
		badSig, _ := slack.Sign("another secret", time.Now(), body)
		for _, c := range []struct{ name, sig, stamp string }{
			{"bad signature", badSig, goodStamp},
			{"old timestamp", oldSig, oldStamp},
			{"no signature", "", goodStamp},
			{"signature of another body", goodSig[:len(goodSig)-2] + "00", goodStamp},
		} {
			for _, path := range []string{"/slack/commands", "/slack/interactions"} {
				req, _ := http.NewRequest(http.MethodPost, sp.base+path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Slack-Signature", c.sig)
				req.Header.Set("X-Slack-Request-Timestamp", c.stamp)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s to %s: %d, want 401", c.name, path, res.StatusCode)
				}
			}
		}
		var n int64
		db.Model(&grants.Request{}).Count(&n)
		if n != 0 {
			t.Errorf("%d requests filed by unverified commands", n)
		}
		// The same body, correctly signed, is accepted.
		req, _ := http.NewRequest(http.MethodPost, sp.base+"/slack/commands", bytes.NewReader(body))
		req.Header.Set("X-Slack-Signature", goodSig)
		req.Header.Set("X-Slack-Request-Timestamp", goodStamp)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		db.Model(&grants.Request{}).Count(&n)
		if res.StatusCode != http.StatusOK || n != 1 {
			t.Errorf("signed command: %d, %d requests", res.StatusCode, n)
		}
	})
}

func TestSlackMessagesFollowDecisionsMadeElsewhere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		sp := startSlackPortal(t, db, false, 0)
		bob, carol := "bob@example.com", "carol@example.com"
		store := grants.NewStore(db)
		token, _, err := store.CreateToken(t.Context(), carol, "test", time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sp.slack.SlashCommand(t.Context(), sp.ids[bob], "prod-db 2h checking the replica"); err != nil {
			t.Fatal(err)
		}
		// Without a channel, the approver gets a direct message with buttons.
		dm := sp.waitDM(t, carol, "Access request 1", "approve", "deny")

		// Denied through the API (as the browser and the CLI do).
		req, _ := http.NewRequest(http.MethodPost, sp.base+"/api/v1/requests/1/deny", strings.NewReader(`{"comment":"use the replica"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("deny through the API: %d", res.StatusCode)
		}
		waitFor(t, 30*time.Second, func() bool {
			for _, m := range sp.slack.DirectMessages(sp.ids[carol]) {
				if m.TS == dm.TS {
					return containsAll(blocksText(m), []string{"is denied", "Denied by <@" + sp.ids[carol] + ">", "use the replica"})
				}
			}
			return false
		})
		sp.waitDM(t, bob, "Your request 1 for `prod-db`", "Denied by <@"+sp.ids[carol]+">")

		// A click on the updated message finds no button; a stale click
		// (a message not yet updated) is refused with the API's words.
		if _, err := sp.slack.Click(t.Context(), sp.ids[carol], dm.Channel, dm.TS, slack.ActionApprove); err == nil {
			t.Errorf("the decided message still has an Approve button")
		}
	})
}

func TestSlackRequestModalListAndStrangers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		sp := startSlackPortal(t, db, true, 0)
		bob, frank := "bob@example.com", "frank@example.com"

		// /access alone opens the modal with what bob may request.
		if _, err := sp.slack.SlashCommand(t.Context(), sp.ids[bob], ""); err != nil {
			t.Fatal(err)
		}
		view, open := sp.slack.OpenView(sp.ids[bob])
		if !open || view.CallbackID != slack.CallbackRequest || !strings.Contains(string(view.JSON), "prod-db") {
			t.Fatalf("request modal: %+v, open %t; bob was told %q", view, open, sp.lastEphemeral(bob))
		}
		// prod-db requires a reason: the modal stays open and says so.
		reply, err := sp.slack.Submit(t.Context(), sp.ids[bob], view.ID, map[string]string{"resource": "prod-db", "duration": "2h"})
		if err != nil || reply.ViewErrors["reason"] != "prod-db requires a reason: say why you need access" {
			t.Fatalf("submitting without a reason: %+v, %v", reply, err)
		}
		reply, err = sp.slack.Submit(t.Context(), sp.ids[bob], view.ID, map[string]string{"resource": "prod-db", "duration": "2h", "reason": "INC-7"})
		if err != nil || len(reply.ViewErrors) > 0 {
			t.Fatalf("submitting the request: %+v, %v", reply, err)
		}
		if r := sp.request(t, 1); r.Status != grants.RequestPending || r.Duration() != 2*time.Hour || r.Reason != "INC-7" {
			t.Errorf("request from the modal: %+v", r)
		}
		// A second one is refused with the API's words.
		if reply, _ := sp.slack.SlashCommand(t.Context(), sp.ids[bob], "prod-db 1h again"); reply.Ephemeral != "your request 1 for prod-db is already pending; cancel it or wait for a decision" {
			t.Errorf("a second request: %q", reply.Ephemeral)
		}
		if reply, _ := sp.slack.SlashCommand(t.Context(), sp.ids[bob], "list"); reply.Ephemeral != "request 1 for prod-db (2h) pending." {
			t.Errorf("/access list: %q", reply.Ephemeral)
		}
		if reply, _ := sp.slack.SlashCommand(t.Context(), sp.ids[bob], "prod-db"); !strings.Contains(reply.Ephemeral, "Usage: /access") {
			t.Errorf("a command without a duration: %q", reply.Ephemeral)
		}

		// Frank has left (SUSPENDED in Okta); a stranger is not in Okta at all.
		stranger := sp.slack.AddUser(slackfake.User{Name: "mallory", Email: "mallory@elsewhere.example"})
		for _, c := range []struct{ id, want string }{
			{sp.ids[frank], "frank@example.com is SUSPENDED in Okta"},
			{stranger, "mallory@elsewhere.example is not a user of the Okta directory"},
		} {
			reply, err := sp.slack.SlashCommand(t.Context(), c.id, "staging-ssh 1h")
			if err != nil || reply.Status != http.StatusOK || reply.Ephemeral != c.want {
				t.Errorf("refused person: %+v, %v; want %q", reply, err, c.want)
			}
		}
		var n int64
		db.Model(&grants.Request{}).Count(&n)
		if n != 1 {
			t.Errorf("%d requests, want only bob's", n)
		}
	})
}

func TestSlackExtendButtonFilesAnExtension(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		bob, erin := "bob@example.com", "erin@example.com"
		giveGrant(t, db, bob)
		sp := startSlackPortal(t, db, true, 0)
		var g grants.Grant
		db.Where("user_email = ?", bob).Take(&g)
		// The expiry warning as the outbox sends it, in bob's DM and in erin's.
		api := slack.NewClient("xoxb-test", slack.WithAPIURL(sp.slackAPI))
		warning := slack.ExpiryWarningMessage(grants.SlackGrantInfo(&g))
		var where = map[string][2]string{}
		for _, who := range []string{bob, erin} {
			ch, ts, err := api.PostDM(t.Context(), sp.ids[who], warning)
			if err != nil {
				t.Fatal(err)
			}
			where[who] = [2]string{ch, ts}
		}
		// Only the grantee may extend.
		if _, err := sp.slack.Click(t.Context(), sp.ids[erin], where[erin][0], where[erin][1], slack.ActionExtend); err != nil {
			t.Fatal(err)
		}
		if got := sp.lastEphemeral(erin); got != fmt.Sprintf("no grant %d", g.ID) {
			t.Errorf("erin extending bob's grant was told %q", got)
		}
		if _, err := sp.slack.Click(t.Context(), sp.ids[bob], where[bob][0], where[bob][1], slack.ActionExtend); err != nil {
			t.Fatal(err)
		}
		view, open := sp.slack.OpenView(sp.ids[bob])
		if !open || view.CallbackID != slack.CallbackExtend {
			t.Fatalf("extend modal: %+v, open %t; bob was told %q", view, open, sp.lastEphemeral(bob))
		}
		reply, err := sp.slack.Submit(t.Context(), sp.ids[bob], view.ID, map[string]string{"duration": "2h", "reason": "the migration runs late"})
		if err != nil || len(reply.ViewErrors) > 0 {
			t.Fatalf("submitting the extension: %+v, %v", reply, err)
		}
		r := sp.request(t, 1)
		if r.Status != grants.RequestPending || r.Resource != "prod-db" || r.Requester != bob || r.Duration() != 2*time.Hour {
			t.Errorf("extension request: %+v", r)
		}
		// The approvers are asked like for any request.
		sp.waitMessage(t, sp.channel, "Access request 1", "the migration runs late", "approve")
	})
}
