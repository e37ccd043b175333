-- Market trades carry a quantity (the price column is the whole amount held), a deadline for
-- the seller to answer (respond_by), and a fourth way to end: cancelled (by the buyer before
-- approval, or by the scheduler when the seller never answered). SQLite cannot change a CHECK
-- in place, so the table is rebuilt with the same rows.
CREATE TABLE trades_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id BIGINT NOT NULL REFERENCES products(id),
    buyer_id BIGINT NOT NULL REFERENCES users(id),
    seller_id BIGINT NOT NULL REFERENCES users(id),
    price BIGINT NOT NULL CHECK (price > 0),
    status TEXT NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'rejected', 'confirmed', 'cancelled')),
    created_at TIMESTAMP NOT NULL,
    approved_at TIMESTAMP,
    confirmed_at TIMESTAMP,
    auto_confirm_at TIMESTAMP,
    quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity >= 1),
    respond_by TIMESTAMP,
    cancelled_at TIMESTAMP,
    UNIQUE (product_id, buyer_id),
    CHECK (buyer_id <> seller_id)
);
INSERT INTO trades_new (id, product_id, buyer_id, seller_id, price, status, created_at, approved_at, confirmed_at, auto_confirm_at, quantity, respond_by)
SELECT id, product_id, buyer_id, seller_id, price, status, created_at, approved_at, confirmed_at, auto_confirm_at, 1,
       CASE WHEN status = 'requested' THEN strftime('%Y-%m-%d %H:%M:%f', created_at, '+72 hours') END
FROM trades;
DROP TABLE trades;
ALTER TABLE trades_new RENAME TO trades;
CREATE INDEX trades_buyer_idx ON trades (buyer_id, id);
CREATE INDEX trades_seller_idx ON trades (seller_id, id);
CREATE INDEX trades_due_idx ON trades (status, auto_confirm_at);
CREATE INDEX trades_respond_idx ON trades (status, respond_by);
