CREATE TABLE trades_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id BIGINT NOT NULL REFERENCES products(id),
    buyer_id BIGINT NOT NULL REFERENCES users(id),
    seller_id BIGINT NOT NULL REFERENCES users(id),
    price BIGINT NOT NULL CHECK (price > 0),
    status TEXT NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'rejected', 'confirmed')),
    created_at TIMESTAMP NOT NULL,
    approved_at TIMESTAMP,
    confirmed_at TIMESTAMP,
    auto_confirm_at TIMESTAMP,
    UNIQUE (product_id, buyer_id),
    CHECK (buyer_id <> seller_id)
);
INSERT INTO trades_old (id, product_id, buyer_id, seller_id, price, status, created_at, approved_at, confirmed_at, auto_confirm_at)
SELECT id, product_id, buyer_id, seller_id, price, CASE WHEN status = 'cancelled' THEN 'rejected' ELSE status END,
       created_at, approved_at, confirmed_at, auto_confirm_at
FROM trades;
DROP TABLE trades;
ALTER TABLE trades_old RENAME TO trades;
CREATE INDEX trades_buyer_idx ON trades (buyer_id, id);
CREATE INDEX trades_seller_idx ON trades (seller_id, id);
CREATE INDEX trades_due_idx ON trades (status, auto_confirm_at);
