-- +goose Up
-- Where the next read of Okta's System Log starts (one row): the backstop
-- for event hooks, which Okta delivers on a best-effort basis.
CREATE TABLE okta_log_cursor (
    id         INTEGER PRIMARY KEY,
    after      TEXT NOT NULL DEFAULT '',
    since      DATETIME,
    updated_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE okta_log_cursor;
