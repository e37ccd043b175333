DROP INDEX trades_disputed_idx;
DROP TABLE trade_disputes;
ALTER TABLE trades DROP COLUMN resolved_at;
ALTER TABLE trades DROP COLUMN resolved_by;
ALTER TABLE trades DROP COLUMN resolution_reason;
ALTER TABLE trades DROP COLUMN resolution;
ALTER TABLE trades DROP COLUMN disputed_at;
ALTER TABLE trades DROP CONSTRAINT trades_status_check;
ALTER TABLE trades ADD CONSTRAINT trades_status_check
    CHECK (status IN ('awaiting_payment', 'requested', 'approved', 'rejected', 'confirmed', 'cancelled'));
ALTER TABLE trades DROP CONSTRAINT trades_item_check;
ALTER TABLE trades DROP COLUMN auction_id;
ALTER TABLE trades ALTER COLUMN product_id SET NOT NULL;
