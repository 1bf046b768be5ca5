package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// DefaultAPIURL is Slack's Web API base (SLACK_API_URL's default).
const DefaultAPIURL = "https://slack.com/api/"

// Client calls the Slack Web API methods the portal uses, with a bot token
// (xoxb-…). The scopes it needs: chat:write (chat.postMessage,
// chat.update), users:read and users:read.email (users.info with the
// profile email, users.lookupByEmail), im:write (conversations.open);
// views.open needs none. commands is needed for the slash command itself.
//
// A 429 answer comes back as an error wrapping *slack.RateLimitedError,
// whose RetryAfter is Slack's Retry-After header ([RetryAfter] reads it);
// the client never sleeps or retries by itself, so the caller's outbox
// decides when to try again.
type Client struct {
	api  *slack.Client
	http *http.Client
}

// ClientOption configures a [Client].
type ClientOption func(*clientOptions)

type clientOptions struct {
	apiURL string
	http   *http.Client
}

// WithAPIURL sets the Web API base URL (SLACK_API_URL); "" keeps
// [DefaultAPIURL]. A missing trailing slash is added.
func WithAPIURL(u string) ClientOption {
	return func(o *clientOptions) {
		if u != "" {
			o.apiURL = strings.TrimSuffix(u, "/") + "/"
		}
	}
}

// WithHTTPClient sets the HTTP client for the Web API and response URLs
// (default: one with a 10 s timeout).
func WithHTTPClient(hc *http.Client) ClientOption {
	return func(o *clientOptions) { o.http = hc }
}

// NewClient returns a client using the bot token.
func NewClient(botToken string, opts ...ClientOption) *Client {
	o := clientOptions{apiURL: DefaultAPIURL, http: &http.Client{Timeout: 10 * time.Second}}
	for _, opt := range opts {
		opt(&o)
	}
	api := slack.New(botToken, slack.OptionAPIURL(o.apiURL), slack.OptionHTTPClient(o.http))
	return &Client{api: api, http: o.http}
}

// ErrNoEmail is returned by UserEmail for a Slack user the portal cannot
// map to a person: deleted, a bot, or without a profile email.
var ErrNoEmail = errors.New("slack user has no usable email")

// User is what users.info says about a Slack user.
type User struct {
	ID, Name, RealName, Email string
	Deleted, Bot              bool
}

// UserInfo returns the Slack user (users.info; the profile email needs
// users:read.email).
func (c *Client) UserInfo(ctx context.Context, userID string) (User, error) {
	u, err := c.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		return User{}, fmt.Errorf("looking up Slack user %s (users.info): %w", userID, err)
	}
	return User{ID: u.ID, Name: u.Name, RealName: u.RealName, Email: u.Profile.Email, Deleted: u.Deleted, Bot: u.IsBot}, nil
}

// UserEmail returns the profile email of an active human Slack user, the
// key the portal maps to an Okta person; ErrNoEmail (wrapped) otherwise.
func (c *Client) UserEmail(ctx context.Context, userID string) (string, error) {
	u, err := c.UserInfo(ctx, userID)
	if err != nil {
		return "", err
	}
	if u.Deleted || u.Bot || u.Email == "" {
		return "", fmt.Errorf("Slack user %s (deleted %t, bot %t): %w", userID, u.Deleted, u.Bot, ErrNoEmail)
	}
	return u.Email, nil
}

// ErrNoSlackUser is returned (wrapped) by UserIDByEmail when nobody in the
// workspace has that email (users_not_found).
var ErrNoSlackUser = errors.New("no Slack user with that email")

// UserIDByEmail returns the Slack user id of the person with that email
// (users.lookupByEmail), or ErrNoSlackUser.
func (c *Client) UserIDByEmail(ctx context.Context, email string) (string, error) {
	u, err := c.api.GetUserByEmailContext(ctx, email)
	if code := ErrorCode(err); code == "users_not_found" || code == "user_not_found" {
		return "", fmt.Errorf("looking up %s in Slack: %w", email, ErrNoSlackUser)
	}
	if err != nil {
		return "", fmt.Errorf("looking up %s in Slack (users.lookupByEmail): %w", email, err)
	}
	if u.Deleted {
		return "", fmt.Errorf("looking up %s in Slack: deactivated: %w", email, ErrNoSlackUser)
	}
	return u.ID, nil
}

func msgOptions(m Message) []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
}

// Post posts m to a channel, user or DM id (chat.postMessage) and returns
// the channel id and the message's ts, which identify it for Update.
func (c *Client) Post(ctx context.Context, channel string, m Message) (channelID, ts string, err error) {
	channelID, ts, err = c.api.PostMessageContext(ctx, channel, msgOptions(m)...)
	if err != nil {
		return "", "", fmt.Errorf("posting to %s (chat.postMessage): %w", channel, err)
	}
	return channelID, ts, nil
}

// Update replaces the message at channel/ts with m (chat.update).
func (c *Client) Update(ctx context.Context, channel, ts string, m Message) error {
	if _, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts, msgOptions(m)...); err != nil {
		return fmt.Errorf("updating message %s in %s (chat.update): %w", ts, channel, err)
	}
	return nil
}

// OpenDM opens (or finds) the direct message channel with a user
// (conversations.open) and returns its id.
func (c *Client) OpenDM(ctx context.Context, userID string) (string, error) {
	ch, _, _, err := c.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
	if err != nil {
		return "", fmt.Errorf("opening a DM with %s (conversations.open): %w", userID, err)
	}
	return ch.ID, nil
}

// PostDM opens the DM with a user and posts m there; it returns the DM's
// channel id and the message's ts.
func (c *Client) PostDM(ctx context.Context, userID string, m Message) (channelID, ts string, err error) {
	dm, err := c.OpenDM(ctx, userID)
	if err != nil {
		return "", "", err
	}
	return c.Post(ctx, dm, m)
}

// OpenView opens a modal for the person whose interaction carried
// triggerID (views.open; a trigger is valid for 3 seconds, once).
func (c *Client) OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) (viewID string, err error) {
	resp, err := c.api.OpenViewContext(ctx, triggerID, view)
	if err != nil {
		return "", fmt.Errorf("opening modal %s (views.open): %w", view.CallbackID, err)
	}
	return resp.ID, nil
}

// Respond posts an ephemeral one-line answer to a response_url (at most
// five times within 30 minutes of the interaction).
func (c *Client) Respond(ctx context.Context, responseURL, text string) error {
	msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: oneLine(text)}
	if err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, c.http, msg); err != nil {
		return fmt.Errorf("answering on response_url: %w", err)
	}
	return nil
}

// RetryAfter reports whether err is Slack's 429 and how long Slack asked to
// wait (its Retry-After header).
func RetryAfter(err error) (time.Duration, bool) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return rl.RetryAfter, true
	}
	return 0, false
}

// ErrorCode returns the Web API error code in err ("channel_not_found",
// "missing_scope", …), or "" when err is not a Web API error.
func ErrorCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}
