-- +goose Up
-- How a request was decided beyond the approvers' clicks: the rule that
-- approved it at once (autoApprove, onCall), why it waits (PagerDuty could
-- not be asked), the grant it extends, and the duration each approver set.
ALTER TABLE requests ADD COLUMN auto_approved_rule TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN pending_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN extends_grant_id BIGINT;
ALTER TABLE approvals ADD COLUMN duration_seconds BIGINT;

-- +goose Down
ALTER TABLE approvals DROP COLUMN duration_seconds;
ALTER TABLE requests DROP COLUMN extends_grant_id;
ALTER TABLE requests DROP COLUMN pending_reason;
ALTER TABLE requests DROP COLUMN auto_approved_rule;
