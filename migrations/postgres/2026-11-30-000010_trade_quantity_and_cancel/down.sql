DROP INDEX trades_respond_idx;
UPDATE trades SET status = 'rejected' WHERE status = 'cancelled';
ALTER TABLE trades DROP CONSTRAINT trades_status_check;
ALTER TABLE trades ADD CONSTRAINT trades_status_check
    CHECK (status IN ('requested', 'approved', 'rejected', 'confirmed'));
ALTER TABLE trades DROP COLUMN cancelled_at;
ALTER TABLE trades DROP COLUMN respond_by;
ALTER TABLE trades DROP COLUMN quantity;
