-- +goose Up
-- One record per person Okta took away, grouping every action of the
-- cascade: the event that told the portal, what was taken, and when the
-- tailnet policy was confirmed not to hold them any more.
CREATE TABLE offboardings (
    id                  BIGSERIAL PRIMARY KEY,
    email               TEXT NOT NULL,
    okta_user_id        TEXT NOT NULL DEFAULT '',
    okta_status         TEXT NOT NULL,
    event_uuid          TEXT NOT NULL DEFAULT '',
    event_received_at   TIMESTAMPTZ,
    started_at          TIMESTAMPTZ NOT NULL,
    grants_revoked      INTEGER NOT NULL DEFAULT 0,
    requests_cancelled  INTEGER NOT NULL DEFAULT 0,
    sessions_deleted    INTEGER NOT NULL DEFAULT 0,
    tokens_disabled     INTEGER NOT NULL DEFAULT 0,
    policy_confirmed_at TIMESTAMPTZ,
    ended_at            TIMESTAMPTZ
);
CREATE INDEX offboardings_email_idx ON offboardings (email, ended_at);
CREATE INDEX offboardings_started_idx ON offboardings (started_at);

-- +goose Down
DROP TABLE offboardings;
