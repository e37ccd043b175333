-- Payouts: a member's request to be paid out to a bank account. The amount is held in the
-- wallet (payout_hold) until an admin marks it transferred (the journal's `withdrawal`) or
-- rejects it (payout_release).
CREATE TABLE payouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    bank_code TEXT NOT NULL,
    account_number TEXT NOT NULL,
    account_holder TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'transferred', 'rejected')),
    requested_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    decided_by BIGINT REFERENCES users(id),
    note TEXT
);
CREATE INDEX payouts_user_idx ON payouts (user_id, id);
CREATE INDEX payouts_status_idx ON payouts (status, id);
