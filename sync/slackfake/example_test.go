package slackfake_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/accessportal/portal/sync/slackfake"
	"github.com/slack-go/slack"
)

// A workspace on a loopback port, a member, the Web API through slack-go,
// and a slash command sent to an app.
func Example() {
	s, baseURL, stop, err := slackfake.Start(slackfake.Options{BotToken: "xoxb-demo", SigningSecret: "demo-secret"})
	if err != nil {
		panic(err)
	}
	defer stop()
	alice := s.AddUser(slackfake.User{Name: "alice", Email: "alice@example.com"})

	api := slack.New("xoxb-demo", slack.OptionAPIURL(baseURL+"/api/"))
	u, err := api.GetUserByEmail("alice@example.com")
	fmt.Println(u.ID == alice, err)

	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v, err := slack.NewSecretsVerifier(r.Header, "demo-secret")
		if err == nil {
			v.Write(body)
			err = v.Ensure()
		}
		if err != nil {
			http.Error(w, "not verified", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"response_type":"ephemeral","text":"Request 1 for prod-db is pending."}`)
	}))
	defer app.Close()
	s.SetPortal(app.URL+"/slack/commands", app.URL+"/slack/interactions")
	reply, err := s.SlashCommand(context.Background(), alice, "prod-db 1h investigating")
	fmt.Println(reply.Status, reply.Ephemeral, err)
	// Output:
	// true <nil>
	// 200 Request 1 for prod-db is pending. <nil>
}
