-- +goose Up
-- The PagerDuty schedules (comma-separated) whose on-call rule approved a
-- grant; empty for grants approved otherwise. Such a grant is revoked when
-- its holder is no longer on call in any of them.
ALTER TABLE grants ADD COLUMN on_call_schedules TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE grants DROP COLUMN on_call_schedules;
