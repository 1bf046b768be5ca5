-- +goose Up
-- A counter every write to the directory snapshot moves, in the same
-- transaction: what the reconciler computed from the snapshot stays good
-- until it moves (a pass that changes nothing need not re-read 10,000s of
-- memberships). The portal's own writers move it first, so that they take
-- its row lock before any snapshot row's.
CREATE TABLE directory_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 0);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION directory_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE directory_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER directory_users_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON directory_users
  FOR EACH STATEMENT EXECUTE FUNCTION directory_version_bump();
CREATE TRIGGER directory_groups_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON directory_groups
  FOR EACH STATEMENT EXECUTE FUNCTION directory_version_bump();
CREATE TRIGGER directory_memberships_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON directory_memberships
  FOR EACH STATEMENT EXECUTE FUNCTION directory_version_bump();

-- +goose Down
DROP TRIGGER directory_users_version ON directory_users;
DROP TRIGGER directory_groups_version ON directory_groups;
DROP TRIGGER directory_memberships_version ON directory_memberships;
DROP FUNCTION directory_version_bump();
DROP TABLE directory_version;
