// Package slack is the portal's side of its Slack app: it verifies the
// requests Slack sends (slash commands and interactions), parses them into
// the portal's terms, builds the Block Kit messages and modals the portal
// shows, and talks to the Slack Web API through github.com/slack-go/slack.
//
// It knows nothing of the portal's database: callers fill the plain input
// types ([RequestInfo], [GrantInfo], [ResourceChoice]) from their own models
// and act on the parsed [Command] and [Interaction].
//
// Slack documentation this package follows:
//   - Verifying requests from Slack:
//     https://api.slack.com/authentication/verifying-requests-from-slack
//   - Slash commands: https://api.slack.com/interactivity/slash-commands
//   - Handling user interaction (block_actions, view_submission,
//     response_url): https://api.slack.com/interactivity/handling
//   - Interaction payloads:
//     https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
//     and https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload
//   - Modals and views.open: https://docs.slack.dev/reference/methods/views.open
//   - Rate limits: https://docs.slack.dev/apis/web-api/rate-limits
package slack
