-- +goose Up
-- The admin dashboard's audit page lists events newest first, narrowed by
-- actor, action or target and a time range: each filter is one index range
-- (the rowid, the event id, ends every SQLite index), so that a page costs
-- the same at a million events.
CREATE INDEX audit_events_actor_idx ON audit_events (actor, at);
CREATE INDEX audit_events_action_idx ON audit_events (action, at);
CREATE INDEX audit_events_target_idx ON audit_events (target, at);
-- Who has access right now: active grants by resource and grantee, with
-- whether the tailnet confirmed them.
CREATE INDEX grants_active_resource_idx ON grants (resource, user_email, applied_at) WHERE status = 'active';

-- +goose Down
DROP INDEX grants_active_resource_idx;
DROP INDEX audit_events_target_idx;
DROP INDEX audit_events_action_idx;
DROP INDEX audit_events_actor_idx;
