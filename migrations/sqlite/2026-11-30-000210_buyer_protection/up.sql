-- Buyer protection (issue 13 item 6): one trade flow for the market and auctions. A won
-- auction (or a buy-now) becomes a trade whose auction_id names it (product_id is then empty;
-- exactly one of the two is set), waiting for the winner to confirm receipt. Either side may
-- dispute a trade waiting for receipt ('disputed', reasons in trade_disputes, one per side);
-- an admin resolves it by refunding the buyer ('refunded') or paying the seller ('confirmed'),
-- with a written reason kept on the trade.
-- SQLite cannot drop a NOT NULL or change a CHECK in place, so trades is rebuilt with the same
-- rows and ids. payments refers to trades and payment_refunds to payments, so their rows are
-- set aside and both tables recreated after (foreign keys stay on: the migrations run in one
-- transaction), as they stand after migration 000140.
CREATE TABLE payment_refunds_kept AS SELECT * FROM payment_refunds;
DROP TABLE payment_refunds;
CREATE TABLE payments_kept AS SELECT * FROM payments;
DROP TABLE payments;
CREATE TABLE trades_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id BIGINT REFERENCES products(id),
    buyer_id BIGINT NOT NULL REFERENCES users(id),
    seller_id BIGINT NOT NULL REFERENCES users(id),
    price BIGINT NOT NULL CHECK (price > 0),
    status TEXT NOT NULL DEFAULT 'requested' CHECK (status IN ('awaiting_payment', 'requested', 'approved', 'rejected', 'confirmed', 'cancelled', 'disputed', 'refunded')),
    created_at TIMESTAMP NOT NULL,
    approved_at TIMESTAMP,
    confirmed_at TIMESTAMP,
    auto_confirm_at TIMESTAMP,
    quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity >= 1),
    respond_by TIMESTAMP,
    cancelled_at TIMESTAMP,
    auction_id BIGINT UNIQUE REFERENCES auctions(id),
    disputed_at TIMESTAMP,
    resolution TEXT CHECK (resolution IS NULL OR resolution IN ('refund_buyer', 'pay_seller')),
    resolution_reason TEXT,
    resolved_by BIGINT REFERENCES users(id),
    resolved_at TIMESTAMP,
    UNIQUE (product_id, buyer_id),
    CHECK (buyer_id <> seller_id),
    CHECK ((product_id IS NULL) <> (auction_id IS NULL))
);
INSERT INTO trades_new (id, product_id, buyer_id, seller_id, price, status, created_at, approved_at, confirmed_at, auto_confirm_at, quantity, respond_by, cancelled_at)
SELECT id, product_id, buyer_id, seller_id, price, status, created_at, approved_at, confirmed_at, auto_confirm_at, quantity, respond_by, cancelled_at
FROM trades;
DROP TABLE trades;
ALTER TABLE trades_new RENAME TO trades;
CREATE INDEX trades_buyer_idx ON trades (buyer_id, id);
CREATE INDEX trades_seller_idx ON trades (seller_id, id);
CREATE INDEX trades_due_idx ON trades (status, auto_confirm_at);
CREATE INDEX trades_respond_idx ON trades (status, respond_by);
CREATE INDEX trades_disputed_idx ON trades (status, disputed_at);
CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_uid TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    method TEXT NOT NULL CHECK (method IN ('card', 'vbank')),
    purpose TEXT NOT NULL CHECK (purpose IN ('topup', 'trade')),
    status TEXT NOT NULL CHECK (status IN ('ready', 'paid', 'failed', 'cancelled', 'expired', 'forged')),
    imp_uid TEXT UNIQUE,
    receipt_url TEXT,
    fail_reason TEXT,
    vbank_code TEXT,
    vbank_name TEXT,
    vbank_num TEXT,
    vbank_holder TEXT,
    vbank_due TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    paid_at TIMESTAMP,
    trade_id BIGINT UNIQUE REFERENCES trades(id),
    pay_by TIMESTAMP,
    refund_bank TEXT,
    refund_account TEXT,
    refund_holder TEXT,
    CHECK ((purpose = 'trade') = (trade_id IS NOT NULL))
);
INSERT INTO payments (id, merchant_uid, user_id, amount, method, purpose, status, imp_uid, receipt_url, fail_reason, vbank_code, vbank_name, vbank_num, vbank_holder, vbank_due, created_at, updated_at, paid_at, trade_id, pay_by, refund_bank, refund_account, refund_holder)
SELECT id, merchant_uid, user_id, amount, method, purpose, status, imp_uid, receipt_url, fail_reason, vbank_code, vbank_name, vbank_num, vbank_holder, vbank_due, created_at, updated_at, paid_at, trade_id, pay_by, refund_bank, refund_account, refund_holder
FROM payments_kept;
DROP TABLE payments_kept;
CREATE INDEX payments_user_time_idx ON payments (user_id, created_at);
CREATE INDEX payments_due_idx ON payments (purpose, status, pay_by);
CREATE TABLE payment_refunds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id BIGINT NOT NULL REFERENCES payments(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    checksum BIGINT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'refused', 'mismatch')),
    fail_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    settled_at TIMESTAMP,
    sent_at TIMESTAMP
);
INSERT INTO payment_refunds (id, payment_id, user_id, amount, checksum, reason, status, fail_reason, created_at, settled_at, sent_at)
SELECT id, payment_id, user_id, amount, checksum, reason, status, fail_reason, created_at, settled_at, sent_at
FROM payment_refunds_kept;
DROP TABLE payment_refunds_kept;
CREATE INDEX payment_refunds_payment_idx ON payment_refunds (payment_id, id);
CREATE INDEX payment_refunds_status_idx ON payment_refunds (status, id);
CREATE TABLE trade_disputes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trade_id BIGINT NOT NULL REFERENCES trades(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (trade_id, user_id)
);
