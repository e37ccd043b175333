-- Server-side sessions: one row per login. The cookie carries a random token; the row is keyed
-- by its SHA-256 (hex). Logging out deletes the row; suspending a user or changing a password
-- deletes all of that user's rows, so a copied cookie stops working at once.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
