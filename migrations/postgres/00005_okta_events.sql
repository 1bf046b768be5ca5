-- +goose Up
-- Okta event hook deliveries, stored before they are acknowledged and
-- processed after; uuid de-duplicates Okta's at-least-once delivery.
CREATE TABLE okta_events (
    uuid         TEXT PRIMARY KEY,
    event_type   TEXT NOT NULL,
    published    TIMESTAMPTZ NOT NULL,
    targets      TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    processed_at TIMESTAMPTZ,
    result       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX okta_events_pending_idx ON okta_events (processed_at, published);

-- +goose Down
DROP TABLE okta_events;
