package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/sync/slack"
)

// BenchmarkSlackApprovalToPolicy: an approver submits the approve modal in
// the simulated Slack; the time from that submission to the policy write
// giving the requester the resource, against a tailnet with 20 ms latency.
// Between rounds (untimed) the grant is revoked and its removal awaited.
func BenchmarkSlackApprovalToPolicy(b *testing.B) {
	slog.SetDefault(slog.New(slog.DiscardHandler)) // keep the results readable
	sp := startSlackPortal(b, benchDB(b), true, 20*time.Millisecond)
	bob, carol := "bob@example.com", "carol@example.com"
	token, _, err := grants.NewStore(sp.db).CreateToken(b.Context(), "alice@example.com", "bench", time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		id := int64(i + 1)
		if _, err := sp.slack.SlashCommand(b.Context(), sp.ids[bob], "prod-db 1h round "+fmt.Sprint(id)); err != nil {
			b.Fatal(err)
		}
		msg := sp.waitMessage(b, sp.channel, fmt.Sprintf("*Access request %d* needs a decision", id))
		if _, err := sp.slack.Click(b.Context(), sp.ids[carol], sp.channel, msg.TS, slack.ActionApprove); err != nil {
			b.Fatal(err)
		}
		view, open := sp.slack.OpenView(sp.ids[carol])
		if !open {
			b.Fatalf("no approve modal: carol was told %q", sp.lastEphemeral(carol))
		}
		b.StartTimer()
		start := time.Now()
		reply, err := sp.slack.Submit(b.Context(), sp.ids[carol], view.ID, map[string]string{"duration": "30m"})
		if err != nil || len(reply.ViewErrors) > 0 {
			b.Fatalf("submitting: %+v, %v", reply, err)
		}
		for !strings.Contains(jitGroup(sp.policyText()), bob) {
			time.Sleep(time.Millisecond) // polling the fake's state, bounded below
			if time.Since(start) > 30*time.Second {
				b.Fatalf("round %d: bob not in the policy after 30s", id)
			}
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		sp.revokeAndWait(b, token, id, bob)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
}

// revokeAndWait revokes the grant of request id through the API and waits
// until email is out of the policy.
func (sp *slackPortal) revokeAndWait(b *testing.B, token string, id int64, email string) {
	var r grants.Request
	sp.db.Where("id = ?", id).Take(&r)
	if r.GrantID == nil {
		b.Fatalf("request %d has no grant: %+v", id, r)
	}
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/grants/%d/revoke", sp.base, *r.GrantID), strings.NewReader(`{"reason":"next round"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("revoking grant %d: %d", *r.GrantID, res.StatusCode)
	}
	waitFor(b, 30*time.Second, func() bool { return !strings.Contains(jitGroup(sp.policyText()), email) })
}
