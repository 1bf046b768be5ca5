-- +goose Up
-- The posture attribute the portal set on a grantee's device for a grant
-- (the second lock, enforced by Tailscale itself): what was set, until when,
-- when Tailscale was read back holding it, and when it was taken away.
CREATE TABLE device_postures (
    grant_id     BIGINT NOT NULL REFERENCES grants(id),
    device_id    TEXT NOT NULL,
    device_name  TEXT NOT NULL DEFAULT '',
    attr_key     TEXT NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    set_at       TIMESTAMPTZ NOT NULL,
    confirmed_at TIMESTAMPTZ,
    removed_at   TIMESTAMPTZ,
    PRIMARY KEY (grant_id, device_id)
);
CREATE INDEX device_postures_open ON device_postures (removed_at);

-- +goose Down
DROP TABLE device_postures;
