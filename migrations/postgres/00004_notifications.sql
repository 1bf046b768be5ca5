-- +goose Up
-- At most one pending request per person and resource: a second one is a
-- conflict, not a duplicate for the approvers to wade through.
CREATE UNIQUE INDEX requests_one_pending_idx ON requests (requester, resource) WHERE status = 'pending';

-- Outbox of webhook notifications: written in the same transaction as the
-- change they announce, delivered after commit, retried with backoff.
CREATE TABLE notifications (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT NOT NULL,
    recipients      TEXT NOT NULL DEFAULT '[]',
    details         TEXT NOT NULL DEFAULT '{}',
    grant_id        BIGINT,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    last_error_at   TIMESTAMPTZ,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX notifications_due_idx ON notifications (status, next_attempt_at);

-- +goose Down
DROP TABLE notifications;
DROP INDEX requests_one_pending_idx;
