-- +goose Up
-- Every Slack message the portal posted through the notification outbox:
-- where it is (channel and ts, which chat.update needs), which request or
-- grant it is about, and which delivery (notification and target: a
-- channel or a person's Slack id) posted it, so that a retried delivery
-- never posts the same message twice.
CREATE TABLE slack_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id BIGINT NOT NULL REFERENCES notifications(id),
    target          TEXT NOT NULL,
    request_id      BIGINT,
    grant_id        BIGINT,
    channel         TEXT NOT NULL,
    ts              TEXT NOT NULL,
    created_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX slack_messages_delivery ON slack_messages (notification_id, target);
CREATE INDEX slack_messages_request ON slack_messages (request_id);

-- +goose Down
DROP TABLE slack_messages;
