-- 1:1 chat (issue 14 item 3): one conversation per listing (an auction or a product, exactly
-- one, as trades hold them) and neighbour, with the listing's seller. Messages are plain text.
-- Each side's read marker is the id of the last message they have seen; `last_message_id`
-- (0 before the first) makes the header's count of unread conversations one indexed lookup.
CREATE TABLE chats (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id BIGINT REFERENCES products(id),
    auction_id BIGINT REFERENCES auctions(id),
    seller_id BIGINT NOT NULL REFERENCES users(id),
    neighbour_id BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    last_message_at TIMESTAMP NOT NULL,
    last_message_id BIGINT NOT NULL DEFAULT 0,
    seller_read_id BIGINT NOT NULL DEFAULT 0,
    neighbour_read_id BIGINT NOT NULL DEFAULT 0,
    CHECK ((product_id IS NULL) <> (auction_id IS NULL)),
    CHECK (seller_id <> neighbour_id)
);
-- One conversation per (listing, neighbour), whichever request opens it first.
CREATE UNIQUE INDEX chats_product_once ON chats (product_id, neighbour_id) WHERE product_id IS NOT NULL;
CREATE UNIQUE INDEX chats_auction_once ON chats (auction_id, neighbour_id) WHERE auction_id IS NOT NULL;
-- /chats (newest activity first) and the header's unread count, for either side.
CREATE INDEX chats_seller_idx ON chats (seller_id, last_message_at);
CREATE INDEX chats_neighbour_idx ON chats (neighbour_id, last_message_at);

CREATE TABLE chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id BIGINT NOT NULL REFERENCES chats(id),
    sender_id BIGINT NOT NULL REFERENCES users(id),
    body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    created_at TIMESTAMP NOT NULL
);
-- A conversation's messages in order, and the unread ones after a read marker.
CREATE INDEX chat_messages_chat_idx ON chat_messages (chat_id, id);
-- The per-member rate limit: a member's messages of the last minute.
CREATE INDEX chat_messages_sender_idx ON chat_messages (sender_id, created_at);

-- A member who blocked another: the blocked one cannot open a conversation with, or write
-- to, the blocker.
CREATE TABLE user_blocks (
    blocker_id BIGINT NOT NULL REFERENCES users(id),
    blocked_id BIGINT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);

-- A new message notifies the other side at most once while that notification is unread.
ALTER TABLE notifications ADD COLUMN chat_id BIGINT;
CREATE UNIQUE INDEX notifications_chat_unread_once ON notifications (chat_id, user_id) WHERE kind = 'chat_message' AND read_at IS NULL;
