-- Profiles and reviews (issue 14 item 4). After a trade is confirmed, buyer and seller may each
-- leave one review of the other: a rating 1 to 5 and a comment of at most 500 characters.
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trade_id BIGINT NOT NULL REFERENCES trades(id),
    author_id BIGINT NOT NULL REFERENCES users(id),
    subject_id BIGINT NOT NULL REFERENCES users(id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT NOT NULL CHECK (length(comment) <= 500),
    created_at TIMESTAMP NOT NULL,
    CHECK (author_id <> subject_id)
);
-- One review per author and trade, whichever request gets there first.
CREATE UNIQUE INDEX reviews_once ON reviews (trade_id, author_id);
-- A profile's reviews, newest first.
CREATE INDEX reviews_subject_idx ON reviews (subject_id, id);
-- A neighbourhood change at most once a week.
ALTER TABLE users ADD COLUMN region_changed_at TIMESTAMP;
