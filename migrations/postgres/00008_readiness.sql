-- +goose Up
-- Readiness: when the directory snapshot last completed a read of Okta, and
-- when a reconcile based on such a read last succeeded.
ALTER TABLE sync_status ADD COLUMN directory_read_at TIMESTAMPTZ;
ALTER TABLE sync_status ADD COLUMN last_complete_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE sync_status DROP COLUMN last_complete_at;
ALTER TABLE sync_status DROP COLUMN directory_read_at;
