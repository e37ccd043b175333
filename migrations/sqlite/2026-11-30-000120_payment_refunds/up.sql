-- Refunds of top-ups: the amount is held in the wallet (refund_hold) while PortOne is asked to
-- cancel it; settled as the journal's `withdrawal` once PortOne confirms (status `done`),
-- released when PortOne refuses (`refused`) or our records missed a cancel (`mismatch`).
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
    settled_at TIMESTAMP
);
CREATE INDEX payment_refunds_payment_idx ON payment_refunds (payment_id, id);
CREATE INDEX payment_refunds_status_idx ON payment_refunds (status, id);
