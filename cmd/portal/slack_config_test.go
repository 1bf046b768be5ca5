package main

import (
	"strings"
	"testing"
)

func TestSlackConfiguration(t *testing.T) {
	env := func(extra ...string) func(string) string {
		vars := map[string]string{}
		for _, kv := range serveEnv(t, extra...) {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		return func(k string) string { return vars[k] }
	}
	for _, c := range []struct {
		name string
		env  []string
		want string
	}{
		{"token without secret", []string{"SLACK_BOT_TOKEN=xoxb-1"}, "SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set"},
		{"secret without token", []string{"SLACK_SIGNING_SECRET=s"}, "SLACK_BOT_TOKEN is required when SLACK_SIGNING_SECRET is set"},
		{"channel without the app", []string{"PORTAL_SLACK_CHANNEL=C1"}, "PORTAL_SLACK_CHANNEL needs the Slack app"},
		{"Slack over http", []string{"SLACK_BOT_TOKEN=xoxb-1", "SLACK_SIGNING_SECRET=s", "SLACK_API_URL=http://slack.example.com/api/"}, "SLACK_API_URL"},
	} {
		if _, err := loadConfig(env(c.env...)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	cfg, err := loadConfig(env("SLACK_BOT_TOKEN=xoxb-1", "SLACK_SIGNING_SECRET=s", "PORTAL_SLACK_CHANNEL=C0123"))
	if err != nil || cfg.SlackAPIURL != "https://slack.com/api/" || cfg.SlackChannel != "C0123" || cfg.SlackBotToken != "xoxb-1" {
		t.Errorf("a complete Slack app: %+v, %v", cfg, err)
	}
	if cfg, err := loadConfig(env()); err != nil || cfg.SlackBotToken != "" {
		t.Errorf("without Slack: %+v, %v", cfg, err)
	}
}
