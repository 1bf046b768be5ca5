-- +goose Up
-- When a poll last read the members of an Okta group (NULL: its members
-- are not followed). A Tailscale group newly mapped to an Okta group is not
-- written before this is set: an unread group is not an empty one.
ALTER TABLE directory_groups ADD COLUMN members_read_at TIMESTAMPTZ;
UPDATE directory_groups SET members_read_at = synced_at
  WHERE id IN (SELECT DISTINCT group_id FROM directory_memberships);
-- The groups that stay managed until their grants' removal is confirmed.
CREATE INDEX grants_unfinished_idx ON grants (group_name) WHERE removed_at IS NULL;
-- The Okta user a token acts as: a person is their Okta user id, not an
-- email another user could also have.
ALTER TABLE api_tokens ADD COLUMN okta_user_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN okta_user_id;
DROP INDEX grants_unfinished_idx;
ALTER TABLE directory_groups DROP COLUMN members_read_at;
