DROP INDEX payments_due_idx;
ALTER TABLE payments DROP CONSTRAINT payments_trade_link_check;
ALTER TABLE payments DROP COLUMN pay_by;
ALTER TABLE payments DROP COLUMN trade_id;
ALTER TABLE payments DROP CONSTRAINT payments_purpose_check;
ALTER TABLE payments ADD CONSTRAINT payments_purpose_check CHECK (purpose IN ('topup'));
ALTER TABLE trades DROP CONSTRAINT trades_status_check;
ALTER TABLE trades ADD CONSTRAINT trades_status_check
    CHECK (status IN ('requested', 'approved', 'rejected', 'confirmed', 'cancelled'));
