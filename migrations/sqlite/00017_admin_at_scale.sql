-- +goose Up
-- The admin dashboard's pending requests, oldest first: one index range
-- however many decided requests came before them.
CREATE INDEX requests_status_id_idx ON requests (status, id);

-- +goose Down
DROP INDEX requests_status_id_idx;
