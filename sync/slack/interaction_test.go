package slack

import (
	"net/url"
	"testing"
	"time"
)

func interactionBody(payload string) []byte {
	return []byte(url.Values{"payload": {payload}}.Encode())
}

const (
	clickPayload  = `{"type":"block_actions","user":{"id":"UBOB"},"team":{"id":"T1"},"trigger_id":"1.2.x","response_url":"https://hooks.slack.com/actions/T1/1/x","container":{"type":"message","channel_id":"C1","message_ts":"1.000100"},"actions":[{"action_id":"approve","block_id":"b","value":"7","type":"button"}]}`
	submitPayload = `{"type":"view_submission","user":{"id":"UBOB"},"team":{"id":"T1"},"view":{"id":"V1","callback_id":"approve_request","private_metadata":"7","state":{"values":{"duration":{"duration":{"type":"static_select","selected_option":{"text":{"type":"plain_text","text":"30m"},"value":"30m"}}},"comment":{"comment":{"type":"plain_text_input","value":"  ok  "}}}}}}`
)

func TestParseInteraction(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    Interaction
		wantErr bool
	}{
		{name: "approve click", payload: clickPayload,
			want: Interaction{Kind: ClickApprove, UserID: "UBOB", TeamID: "T1", TriggerID: "1.2.x", ResponseURL: "https://hooks.slack.com/actions/T1/1/x", Channel: "C1", MessageTS: "1.000100", RequestID: 7}},
		{name: "extend click", payload: `{"type":"block_actions","user":{"id":"UA"},"container":{"channel_id":"D1","message_ts":"2.0"},"actions":[{"action_id":"extend","block_id":"g","value":"3"}]}`,
			want: Interaction{Kind: ClickExtend, UserID: "UA", Channel: "D1", MessageTS: "2.0", GrantID: 3}},
		{name: "approve submitted", payload: submitPayload,
			want: Interaction{Kind: SubmitApprove, UserID: "UBOB", TeamID: "T1", ViewID: "V1", RequestID: 7, Duration: 30 * time.Minute, Comment: "ok"}},
		{name: "deny submitted", payload: `{"type":"view_submission","user":{"id":"UB"},"view":{"id":"V2","callback_id":"deny_request","private_metadata":"9","state":{"values":{"comment":{"comment":{"value":"no"}}}}}}`,
			want: Interaction{Kind: SubmitDeny, UserID: "UB", ViewID: "V2", RequestID: 9, Comment: "no"}},
		{name: "request submitted", payload: `{"type":"view_submission","user":{"id":"UA"},"view":{"id":"V3","callback_id":"request_access","state":{"values":{"resource":{"resource":{"selected_option":{"value":"prod-db"}}},"duration":{"duration":{"selected_option":{"value":"2h"}}},"reason":{"reason":{"value":"INC-42"}}}}}}`,
			want: Interaction{Kind: SubmitRequest, UserID: "UA", ViewID: "V3", Resource: "prod-db", Duration: 2 * time.Hour, Reason: "INC-42"}},
		{name: "modal closed", payload: `{"type":"view_closed","user":{"id":"UA"},"view":{"id":"V3"}}`, want: Interaction{Kind: Closed, UserID: "UA"}},
		{name: "other button", payload: `{"type":"block_actions","user":{"id":"UA"},"actions":[{"action_id":"open_portal","block_id":"x","value":"x"}]}`, want: Interaction{Kind: Closed, UserID: "UA"}},
		{name: "bad request id", payload: `{"type":"block_actions","user":{"id":"UA"},"actions":[{"action_id":"deny","block_id":"r","value":"seven"}]}`, wantErr: true},
		{name: "bad metadata", payload: `{"type":"view_submission","user":{"id":"UA"},"view":{"callback_id":"approve_request","private_metadata":"-1"}}`, wantErr: true},
		{name: "bad duration", payload: `{"type":"view_submission","user":{"id":"UA"},"view":{"callback_id":"approve_request","private_metadata":"7","state":{"values":{"duration":{"duration":{"selected_option":{"value":"forever"}}}}}}}`, wantErr: true},
		{name: "no user", payload: `{"type":"block_actions","actions":[{"action_id":"approve","block_id":"r","value":"7"}]}`, wantErr: true},
		{name: "not JSON", payload: `{`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInteraction(interactionBody(tt.payload))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parsed %+v", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v\nwant %+v", got, err, tt.want)
			}
		})
	}
	if _, err := ParseInteraction([]byte("text=x")); err == nil {
		t.Error("a body without payload parsed")
	}
}

func FuzzParseInteraction(f *testing.F) {
	for _, p := range []string{clickPayload, submitPayload, `{"type":"view_closed","user":{"id":"U"}}`, `{}`} {
		f.Add(string(interactionBody(p)))
	}
	f.Fuzz(func(t *testing.T, body string) {
		in, err := ParseInteraction([]byte(body))
		if err != nil {
			return
		}
		if in.UserID == "" {
			t.Fatal("an interaction without a user")
		}
		switch in.Kind {
		case ClickApprove, ClickDeny, SubmitApprove, SubmitDeny:
			if in.RequestID <= 0 {
				t.Fatalf("%v without a request id", in.Kind)
			}
		case ClickExtend:
			if in.GrantID <= 0 {
				t.Fatal("extend without a grant id")
			}
		}
		if in.Duration < 0 {
			t.Fatal("negative duration")
		}
	})
}
