-- +goose Up
-- A counter every write to the directory snapshot moves, in the same
-- transaction: what the reconciler computed from the snapshot stays good
-- until it moves (a pass that changes nothing need not re-read 10,000s of
-- memberships).
CREATE TABLE directory_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 0);
-- +goose StatementBegin
CREATE TRIGGER directory_users_insert_version AFTER INSERT ON directory_users
BEGIN
  UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER directory_users_update_version AFTER UPDATE ON directory_users
BEGIN
  UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER directory_users_delete_version AFTER DELETE ON directory_users
BEGIN
  UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER directory_groups_insert_version AFTER INSERT ON directory_groups
BEGIN
  UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER directory_groups_update_version AFTER UPDATE ON directory_groups
BEGIN
  UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER directory_groups_delete_version AFTER DELETE ON directory_groups
BEGIN
  UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER directory_memberships_insert_version AFTER INSERT ON directory_memberships
BEGIN
  UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER directory_memberships_update_version AFTER UPDATE ON directory_memberships
BEGIN
  UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER directory_memberships_delete_version AFTER DELETE ON directory_memberships
BEGIN
  UPDATE directory_version SET version = version + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER directory_users_insert_version;
DROP TRIGGER directory_users_update_version;
DROP TRIGGER directory_users_delete_version;
DROP TRIGGER directory_groups_insert_version;
DROP TRIGGER directory_groups_update_version;
DROP TRIGGER directory_groups_delete_version;
DROP TRIGGER directory_memberships_insert_version;
DROP TRIGGER directory_memberships_update_version;
DROP TRIGGER directory_memberships_delete_version;
DROP TABLE directory_version;
