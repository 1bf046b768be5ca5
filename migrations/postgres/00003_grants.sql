-- +goose Up
-- Requests for access to a catalog resource.
CREATE TABLE requests (
    id               BIGSERIAL PRIMARY KEY,
    resource         TEXT NOT NULL,
    requester        TEXT NOT NULL,
    duration_seconds BIGINT NOT NULL,
    reason           TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    decided_at       TIMESTAMPTZ,
    grant_id         BIGINT
);
CREATE INDEX requests_status_idx ON requests (status, created_at);
CREATE INDEX requests_requester_idx ON requests (requester, created_at);

-- Each approver's decision on a request.
CREATE TABLE approvals (
    id         BIGSERIAL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    approver   TEXT NOT NULL,
    decision   TEXT NOT NULL,
    comment    TEXT NOT NULL DEFAULT '',
    at         TIMESTAMPTZ NOT NULL,
    UNIQUE (request_id, approver)
);

-- Time-limited membership of a user in a resource's Tailscale group.
CREATE TABLE grants (
    id            BIGSERIAL PRIMARY KEY,
    request_id    BIGINT REFERENCES requests (id),
    resource      TEXT NOT NULL,
    user_email    TEXT NOT NULL,
    group_name    TEXT NOT NULL,
    starts_at     TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    status        TEXT NOT NULL,
    applied_at    TIMESTAMPTZ,
    removed_at    TIMESTAMPTZ,
    revoked_by    TEXT NOT NULL DEFAULT '',
    revoke_reason TEXT NOT NULL DEFAULT '',
    granted_by    TEXT NOT NULL DEFAULT '',
    reason        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX grants_status_expires_idx ON grants (status, expires_at);
CREATE INDEX grants_user_idx ON grants (user_email, resource);
-- One active grant per user and resource.
CREATE UNIQUE INDEX grants_one_active_idx ON grants (user_email, resource) WHERE status = 'active';

-- +goose Down
DROP TABLE grants;
DROP TABLE approvals;
DROP TABLE requests;
