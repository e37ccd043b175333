-- Market trades carry a quantity (the price column is the whole amount held), a deadline for
-- the seller to answer (respond_by), and a fourth way to end: cancelled (by the buyer before
-- approval, or by the scheduler when the seller never answered).
ALTER TABLE trades ADD COLUMN quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity >= 1);
ALTER TABLE trades ADD COLUMN respond_by TIMESTAMP;
ALTER TABLE trades ADD COLUMN cancelled_at TIMESTAMP;
ALTER TABLE trades DROP CONSTRAINT trades_status_check;
ALTER TABLE trades ADD CONSTRAINT trades_status_check
    CHECK (status IN ('requested', 'approved', 'rejected', 'confirmed', 'cancelled'));
UPDATE trades SET respond_by = created_at + INTERVAL '72 hours' WHERE status = 'requested';
CREATE INDEX trades_respond_idx ON trades (status, respond_by);
