-- The notification centre (issue 13 item 7): one row per thing that happened to a member,
-- written in the transaction that made it happen. It stores what happened (kind and the ids,
-- title and amount it is about), never a sentence: the sentence is written when it is shown
-- (src/views/notification.rs), in the reader's language.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    auction_id BIGINT,
    product_id BIGINT,
    trade_id BIGINT,
    merchant_uid TEXT,
    payout_id BIGINT,
    title TEXT,
    amount BIGINT CHECK (amount >= 0),
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
-- /notifications, newest first.
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
-- The header's unread count on every page.
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;
-- "Ending in 10 minutes" at most once per member and auction, whichever process sends it.
CREATE UNIQUE INDEX notifications_ending_soon_once ON notifications (auction_id, user_id) WHERE kind = 'ending_soon';
