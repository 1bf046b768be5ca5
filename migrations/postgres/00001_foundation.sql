-- +goose Up
-- Server-side browser sessions (scs). email is filled from the session data so
-- that offboarding can delete every session of a person.
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BYTEA NOT NULL,
    expiry TIMESTAMPTZ NOT NULL,
    email  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);
CREATE INDEX sessions_email_idx ON sessions (email);

-- API tokens; only the SHA-256 of the secret is stored.
CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    email        TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    disabled_at  TIMESTAMPTZ
);
CREATE INDEX api_tokens_email_idx ON api_tokens (email);

-- The last complete snapshot of the Okta directory.
CREATE TABLE directory_users (
    id           TEXT PRIMARY KEY,
    login        TEXT NOT NULL,
    email        TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    last_updated TIMESTAMPTZ,
    synced_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX directory_users_email_idx ON directory_users (email);

CREATE TABLE directory_groups (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    description             TEXT NOT NULL DEFAULT '',
    last_updated            TIMESTAMPTZ,
    last_membership_updated TIMESTAMPTZ,
    synced_at               TIMESTAMPTZ NOT NULL
);
CREATE INDEX directory_groups_name_idx ON directory_groups (name);

CREATE TABLE directory_memberships (
    group_id TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES directory_users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX directory_memberships_user_idx ON directory_memberships (user_id);

-- Append-only, hash-chained audit log.
CREATE TABLE audit_events (
    id        BIGSERIAL PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL DEFAULT '',
    details   TEXT NOT NULL DEFAULT '{}',
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_events_at_idx ON audit_events (at);

-- Leases so that background loops run on one replica at a time.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- Outcome of the reconciler, one row.
CREATE TABLE sync_status (
    id              INTEGER PRIMARY KEY,
    last_run_at     TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    last_error      TEXT NOT NULL DEFAULT '',
    policy_etag     TEXT NOT NULL DEFAULT '',
    held            BOOLEAN NOT NULL DEFAULT FALSE,
    held_reason     TEXT NOT NULL DEFAULT ''
);

-- The catalog when it lives in the database, one row.
CREATE TABLE catalogs (
    id         INTEGER PRIMARY KEY,
    body       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE catalogs;
DROP TABLE sync_status;
DROP TABLE leases;
DROP TABLE audit_events;
DROP TABLE directory_memberships;
DROP TABLE directory_groups;
DROP TABLE directory_users;
DROP TABLE api_tokens;
DROP TABLE sessions;
