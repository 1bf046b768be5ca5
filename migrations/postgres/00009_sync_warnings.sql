-- +goose Up
-- What the last reconcile pass could not do: warnings (members skipped,
-- validation warnings) and the managed groups whose change the control plane
-- refused, with its message (JSON).
ALTER TABLE sync_status ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sync_status ADD COLUMN refusals TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE sync_status DROP COLUMN refusals;
ALTER TABLE sync_status DROP COLUMN warnings;
