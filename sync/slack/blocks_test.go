package slack

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

var created = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func sampleRequest() RequestInfo {
	return RequestInfo{ID: 7, Resource: "prod-db", Requester: "alice@example.com", RequesterSlackID: "UALICE",
		Duration: 2 * time.Hour, Reason: "investigating <INC-42> & more", CreatedAt: created, Status: StatusPending}
}

func blocksJSON(t *testing.T, v any) string {
	t.Helper()
	// Round trip so that every string reads unescaped (\u003c → <).
	raw, err := json.Marshal(v)
	var generic any
	if err == nil {
		err = json.Unmarshal(raw, &generic)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err == nil {
		err = enc.Encode(generic)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func buttons(bs []slack.Block) []*slack.ButtonBlockElement {
	var out []*slack.ButtonBlockElement
	for _, b := range bs {
		if a, ok := b.(*slack.ActionBlock); ok {
			for _, e := range a.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					out = append(out, btn)
				}
			}
		}
	}
	return out
}

func TestRequestMessage(t *testing.T) {
	m := RequestMessage(sampleRequest(), []string{"UBOB", "UCAROL"})
	text := blocksJSON(t, m.Blocks)
	for _, want := range []string{"<@UBOB> <@UCAROL>", "<@UALICE>", "prod-db", "2h", "investigating &lt;INC-42&gt; &amp; more", "<!date^1796288400^"} {
		if !strings.Contains(text, want) {
			t.Errorf("request message lacks %q:\n%s", want, text)
		}
	}
	bs := buttons(m.Blocks)
	if len(bs) != 2 || bs[0].ActionID != ActionApprove || bs[1].ActionID != ActionDeny || bs[0].Value != "7" || bs[1].Value != "7" {
		t.Errorf("buttons = %+v", bs)
	}
	if m.Text == "" {
		t.Error("no fallback text")
	}
}

func TestDecisionMessage(t *testing.T) {
	r := sampleRequest()
	r.Status, r.DecidedBy, r.DecidedBySlackID, r.DecidedAt, r.GrantedDuration, r.Comment =
		StatusApproved, "bob@example.com", "UBOB", created.Add(time.Minute), 30*time.Minute, "keep it short"
	m := DecisionMessage(r)
	text := blocksJSON(t, m.Blocks)
	for _, want := range []string{"Approved by <@UBOB> for 30m on <!date^1796288460^", "keep it short", "is approved"} {
		if !strings.Contains(text, want) {
			t.Errorf("decision lacks %q:\n%s", want, text)
		}
	}
	if len(buttons(m.Blocks)) != 0 {
		t.Error("a decided request still has buttons")
	}
	r.Status, r.DecidedBy, r.DecidedBySlackID = StatusDenied, "carol@example.com", ""
	if text := blocksJSON(t, DecisionMessage(r).Blocks); !strings.Contains(text, "Denied by carol@example.com") {
		t.Errorf("denied by someone without Slack:\n%s", text)
	}
	r.Status = StatusExpired
	if text := blocksJSON(t, DecisionMessage(r).Blocks); !strings.Contains(text, "Expired without a decision") {
		t.Errorf("expired:\n%s", text)
	}
}

func selectOf(t *testing.T, v slack.ModalViewRequest, blockID string) *slack.SelectBlockElement {
	t.Helper()
	for _, b := range v.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok && in.BlockID == blockID {
			return in.Element.(*slack.SelectBlockElement)
		}
	}
	t.Fatalf("no select %s", blockID)
	return nil
}

func optionValues(sel *slack.SelectBlockElement) []string {
	var out []string
	for _, o := range sel.Options {
		out = append(out, o.Value)
	}
	return out
}

func TestApproveModal(t *testing.T) {
	r := sampleRequest()
	r.Duration = 90 * time.Minute
	v := ApproveModal(r, 4*time.Hour)
	if v.CallbackID != CallbackApprove || v.PrivateMetadata != "7" {
		t.Errorf("modal ids %q %q", v.CallbackID, v.PrivateMetadata)
	}
	sel := selectOf(t, v, InputDuration)
	if sel.ActionID != InputDuration {
		t.Errorf("action_id %q", sel.ActionID)
	}
	if got, want := optionValues(sel), []string{"15m", "30m", "1h", "1h30m", "2h", "4h"}; !slices.Equal(got, want) {
		t.Errorf("choices %v, want %v", got, want)
	}
	if sel.InitialOption == nil || sel.InitialOption.Value != "1h30m" {
		t.Errorf("initial %+v, want the requested 1h30m", sel.InitialOption)
	}
	// A request longer than the maximum now offers the maximum.
	r.Duration = 12 * time.Hour
	if sel := selectOf(t, ApproveModal(r, 8*time.Hour), InputDuration); sel.InitialOption.Value != "8h" || slices.Contains(optionValues(sel), "12h") {
		t.Errorf("over the maximum: initial %v, choices %v", sel.InitialOption.Value, optionValues(sel))
	}
	if d := DenyModal(r); d.CallbackID != CallbackDeny || d.PrivateMetadata != "7" || !strings.Contains(blocksJSON(t, d), `"block_id":"comment"`) {
		t.Errorf("deny modal %s", blocksJSON(t, d))
	}
}

func TestRequestModalAndCheck(t *testing.T) {
	choices := []ResourceChoice{
		{Name: "prod-db", Description: "Production database", MaxDuration: 4 * time.Hour, DefaultDuration: time.Hour, RequireReason: true},
		{Name: "staging", MaxDuration: 24 * time.Hour, DefaultDuration: 2 * time.Hour},
	}
	v := RequestModal(choices)
	if v.CallbackID != CallbackRequest {
		t.Errorf("callback %q", v.CallbackID)
	}
	if got := optionValues(selectOf(t, v, InputResource)); !slices.Equal(got, []string{"prod-db", "staging"}) {
		t.Errorf("resources %v", got)
	}
	dur := selectOf(t, v, InputDuration)
	if vals := optionValues(dur); vals[len(vals)-1] != "24h" || dur.InitialOption.Value != "1h" {
		t.Errorf("durations %v initial %v", vals, dur.InitialOption.Value)
	}
	text := blocksJSON(t, v)
	if !strings.Contains(text, "prod-db up to 4h") || !strings.Contains(text, "Required for prod-db") {
		t.Errorf("hints missing:\n%s", text)
	}
	tests := []struct {
		in   Interaction
		want []string
	}{
		{Interaction{Resource: "prod-db", Duration: time.Hour, Reason: "INC-42"}, nil},
		{Interaction{Resource: "prod-db", Duration: 8 * time.Hour}, []string{InputDuration, InputReason}},
		{Interaction{Resource: "staging", Duration: 8 * time.Hour}, nil},
		{Interaction{Resource: "secret-box", Duration: time.Hour}, []string{InputResource}},
	}
	for _, tt := range tests {
		errs := CheckRequestSubmission(tt.in, choices)
		got := slices.Sorted(func(yield func(string) bool) {
			for k := range errs {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(got, tt.want) {
			t.Errorf("%+v: errors %v, want %v", tt.in, errs, tt.want)
		}
	}
	if msg := CheckRequestSubmission(tests[1].in, choices)[InputReason]; msg != "prod-db requires a reason: say why you need access" {
		t.Errorf("reason error %q is not the API's words", msg)
	}
}

func TestDirectMessages(t *testing.T) {
	g := GrantInfo{ID: 3, RequestID: 7, Resource: "prod-db", ExpiresAt: created.Add(time.Hour), Status: "active"}
	warn := ExpiryWarningMessage(g)
	if bs := buttons(warn.Blocks); len(bs) != 1 || bs[0].ActionID != ActionExtend || bs[0].Value != "3" {
		t.Errorf("extend button %+v", bs)
	}
	if !strings.Contains(AppliedMessage(g).Text, "live in the tailnet") {
		t.Error("applied message")
	}
	g.Status, g.RevokedBy, g.RevokeReason = "revoked", "admin@example.com", "incident over"
	if text := EndedMessage(g).Text; !strings.Contains(text, "was revoked by admin@example.com: incident over") {
		t.Errorf("ended: %s", text)
	}
	r := sampleRequest()
	r.Status, r.DecidedBy, r.DecidedAt = StatusDenied, "bob@example.com", created
	if text := DecidedMessage(r).Text; !strings.Contains(text, "Denied by bob@example.com") {
		t.Errorf("decided: %s", text)
	}
}

func TestEphemeralIsOneLine(t *testing.T) {
	raw, _ := json.Marshal(EphemeralText("you cannot approve\nyour own request"))
	if string(raw) != `{"response_type":"ephemeral","text":"you cannot approve your own request"}` {
		t.Errorf("ephemeral %s", raw)
	}
	if got := ListText(nil, nil); got != "You have no pending requests and no active grants." {
		t.Errorf("empty list %q", got)
	}
	got := ListText([]RequestInfo{{ID: 7, Resource: "prod-db", Duration: time.Hour}}, []GrantInfo{{ID: 3, Resource: "staging", ExpiresAt: created}})
	if strings.Contains(got, "\n") || !strings.Contains(got, "request 7 for prod-db (1h) pending") || !strings.Contains(got, "grant 3 for staging until 2026-12-03 09:00 UTC") {
		t.Errorf("list %q", got)
	}
}

func TestExtendModal(t *testing.T) {
	g := GrantInfo{ID: 3, Resource: "prod-db", ExpiresAt: created.Add(10 * time.Minute)}
	v := ExtendModal(g, ResourceChoice{Name: "prod-db", MaxDuration: 2 * time.Hour, DefaultDuration: time.Hour, RequireReason: true})
	if v.CallbackID != CallbackExtend || v.PrivateMetadata != "3" {
		t.Errorf("ids %q %q", v.CallbackID, v.PrivateMetadata)
	}
	sel := selectOf(t, v, InputDuration)
	if got := optionValues(sel); !slices.Equal(got, []string{"15m", "30m", "1h", "2h"}) || sel.InitialOption.Value != "1h" {
		t.Errorf("choices %v initial %v", got, sel.InitialOption.Value)
	}
	for _, b := range v.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok && in.BlockID == InputReason && in.Optional {
			t.Error("the reason is optional for a resource that requires one")
		}
	}
	in, err := ParseInteraction(interactionBody(`{"type":"view_submission","user":{"id":"UA"},"view":{"id":"V9","callback_id":"extend_grant","private_metadata":"3","state":{"values":{"duration":{"duration":{"selected_option":{"value":"30m"}}},"reason":{"reason":{"value":" still on it "}}}}}}`))
	if err != nil || in.Kind != SubmitExtend || in.GrantID != 3 || in.Duration != 30*time.Minute || in.Reason != "still on it" {
		t.Errorf("extend submission %+v %v", in, err)
	}
}
