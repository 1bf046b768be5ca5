-- +goose Up
-- The admin dashboard's pending requests, oldest first: one index range
-- however many decided requests came before them.
CREATE INDEX requests_status_id_idx ON requests (status, id);
-- Every actor the audit log names, kept as events are appended: the audit
-- page's actor filter (part of an actor) looks here for the actors it
-- means, then reads each one's events on audit_events_actor_idx, rather
-- than reading the whole log for a rare actor.
CREATE TABLE audit_actors (
    actor TEXT PRIMARY KEY
);
INSERT INTO audit_actors (actor) SELECT DISTINCT actor FROM audit_events;

-- +goose Down
DROP TABLE audit_actors;
DROP INDEX requests_status_id_idx;
