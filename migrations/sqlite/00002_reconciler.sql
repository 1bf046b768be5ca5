-- +goose Up
-- What the reconciler last confirmed in the policy for each managed group,
-- so that a hand edit (drift) can be told from a change of the desired state.
CREATE TABLE managed_groups (
    name       TEXT PRIMARY KEY,
    members    TEXT NOT NULL,
    updated_at DATETIME NOT NULL
);

-- Synced groups held by the mass-removal brake until an admin confirms.
CREATE TABLE sync_holds (
    group_name   TEXT PRIMARY KEY,
    okta_group   TEXT NOT NULL,
    removals     TEXT NOT NULL,
    members      INTEGER NOT NULL,
    held_at      DATETIME NOT NULL,
    confirmed_by TEXT NOT NULL DEFAULT '',
    confirmed_at DATETIME
);

-- +goose Down
DROP TABLE sync_holds;
DROP TABLE managed_groups;
