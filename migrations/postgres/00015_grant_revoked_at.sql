-- +goose Up
-- When a revoked grant actually ended (relinquished, revoked by an admin or
-- by offboarding), so that pages show its end rather than its expiry.
ALTER TABLE grants ADD COLUMN revoked_at TIMESTAMPTZ;
-- Grants revoked before this column existed: their first grant.revoke event.
UPDATE grants SET revoked_at = (
    SELECT MIN(a.at) FROM audit_events a WHERE a.action = 'grant.revoke' AND a.target = 'grant:' || grants.id::text
) WHERE status = 'revoked';

-- +goose Down
ALTER TABLE grants DROP COLUMN revoked_at;
