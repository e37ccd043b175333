-- Payments through PortOne v1 (DESIGN §8): one row per merchant_uid we issue. The ledger's
-- deposit for a paid one carries the imp_uid as its (unique) idempotency key.
CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_uid TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    method TEXT NOT NULL CHECK (method IN ('card', 'vbank')),
    purpose TEXT NOT NULL CHECK (purpose IN ('topup')),
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
    paid_at TIMESTAMP
);
CREATE INDEX payments_user_time_idx ON payments (user_id, created_at);
