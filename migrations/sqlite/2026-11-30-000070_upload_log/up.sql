-- Every photo a member added (listing or product), for the cap on photos per 24 hours.
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX uploads_user_time_idx ON uploads (user_id, created_at);
