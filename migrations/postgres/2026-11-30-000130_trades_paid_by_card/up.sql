-- A market purchase paid by card (DESIGN §8): the trade waits for the payment
-- ('awaiting_payment', its units reserved) and the payment names its trade (purpose 'trade')
-- and its deadline (pay_by).
ALTER TABLE trades DROP CONSTRAINT trades_status_check;
ALTER TABLE trades ADD CONSTRAINT trades_status_check
    CHECK (status IN ('awaiting_payment', 'requested', 'approved', 'rejected', 'confirmed', 'cancelled'));
ALTER TABLE payments DROP CONSTRAINT payments_purpose_check;
ALTER TABLE payments ADD CONSTRAINT payments_purpose_check CHECK (purpose IN ('topup', 'trade'));
ALTER TABLE payments ADD COLUMN trade_id BIGINT UNIQUE REFERENCES trades(id);
ALTER TABLE payments ADD COLUMN pay_by TIMESTAMP;
ALTER TABLE payments ADD CONSTRAINT payments_trade_link_check
    CHECK ((purpose = 'trade') = (trade_id IS NOT NULL));
CREATE INDEX payments_due_idx ON payments (purpose, status, pay_by);
