-- One-time keys of money forms (issue 12): a form carries a random key; the use case stores
-- it with its outcome in its own transaction, so a resubmission after an unknown outcome (a
-- connection cut during COMMIT, a response that never arrived) returns the first outcome and
-- never acts twice. Kept for a day.
CREATE TABLE once_keys (
    user_id BIGINT NOT NULL REFERENCES users(id),
    scope TEXT NOT NULL,
    once_key TEXT NOT NULL,
    outcome TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, scope, once_key)
);
CREATE INDEX once_keys_created_idx ON once_keys (created_at);
