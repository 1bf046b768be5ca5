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
-- How many present members (ACTIVE, RECOVERY, LOCKED_OUT or
-- PASSWORD_EXPIRED, with an email) each group has in the directory
-- snapshot. The snapshot's writers recount a group whenever they change
-- its memberships or one of its members, so that the admin pages show the
-- synced groups' sizes without counting their memberships.
CREATE TABLE directory_group_sizes (
    group_id        TEXT PRIMARY KEY REFERENCES directory_groups (id) ON DELETE CASCADE,
    present_members BIGINT NOT NULL
);
INSERT INTO directory_group_sizes (group_id, present_members)
SELECT g.id, (SELECT COUNT(*) FROM directory_memberships m JOIN directory_users u ON u.id = m.user_id
              WHERE m.group_id = g.id AND u.status IN ('ACTIVE', 'RECOVERY', 'LOCKED_OUT', 'PASSWORD_EXPIRED') AND u.email <> '')
FROM directory_groups g;

-- +goose Down
DROP TABLE directory_group_sizes;
DROP TABLE audit_actors;
DROP INDEX requests_status_id_idx;
