-- Bidding like an auction house (issue 13): the increment table by price band (or the seller's
-- fixed unit), a secret reserve price (an auction that ends below it ends 'reserve_not_met'),
-- and soft close (a late bid moves ends_at; original_ends_at keeps the end the seller set,
-- which bounds the extensions). SQLite cannot change a CHECK in place, so auctions is rebuilt
-- with the same rows and ids; bids refers to it, so its rows are set aside and the table
-- recreated after, with its indexes and append-only triggers.
CREATE TABLE bids_kept AS SELECT * FROM bids;
DROP TABLE bids;
CREATE TABLE auctions_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seller_id BIGINT NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category_id BIGINT NOT NULL REFERENCES categories(id),
    region_id BIGINT NOT NULL REFERENCES regions(id),
    image_name TEXT,
    start_price BIGINT NOT NULL CHECK (start_price > 0),
    bid_unit BIGINT NOT NULL CHECK (bid_unit > 0),
    buy_now_price BIGINT CHECK (buy_now_price IS NULL OR buy_now_price > start_price),
    current_price BIGINT NOT NULL CHECK (current_price > 0),
    leader_id BIGINT REFERENCES users(id),
    bid_count INTEGER NOT NULL DEFAULT 0 CHECK (bid_count >= 0),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    is_national BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'active', 'sold', 'no_bids', 'reserve_not_met', 'cancelled')),
    winner_id BIGINT REFERENCES users(id),
    closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    increment_table BOOLEAN NOT NULL DEFAULT FALSE,
    reserve_price BIGINT CHECK (reserve_price IS NULL OR reserve_price >= start_price),
    original_ends_at TIMESTAMP,
    extensions INTEGER NOT NULL DEFAULT 0 CHECK (extensions >= 0),
    CHECK (ends_at > starts_at)
);
INSERT INTO auctions_new (id, seller_id, title, description, category_id, region_id, image_name, start_price, bid_unit, buy_now_price, current_price, leader_id, bid_count, starts_at, ends_at, is_national, status, winner_id, closed_at, created_at, updated_at)
SELECT id, seller_id, title, description, category_id, region_id, image_name, start_price, bid_unit, buy_now_price, current_price, leader_id, bid_count, starts_at, ends_at, is_national, status, winner_id, closed_at, created_at, updated_at
FROM auctions;
DROP TABLE auctions;
ALTER TABLE auctions_new RENAME TO auctions;
CREATE INDEX auctions_status_ends_idx ON auctions (status, ends_at);
CREATE INDEX auctions_seller_idx ON auctions (seller_id, id);
CREATE INDEX auctions_region_idx ON auctions (region_id);
CREATE TABLE bids (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    auction_id BIGINT NOT NULL REFERENCES auctions(id),
    bidder_id BIGINT NOT NULL REFERENCES users(id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    is_buy_now BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO bids (id, auction_id, bidder_id, amount, is_buy_now, created_at)
SELECT id, auction_id, bidder_id, amount, is_buy_now, created_at FROM bids_kept;
DROP TABLE bids_kept;
CREATE INDEX bids_auction_idx ON bids (auction_id, id);
CREATE INDEX bids_bidder_idx ON bids (bidder_id, auction_id);
CREATE TRIGGER bids_no_update BEFORE UPDATE ON bids
BEGIN
    SELECT RAISE(ABORT, 'bids is append-only');
END;
CREATE TRIGGER bids_no_delete BEFORE DELETE ON bids
BEGIN
    SELECT RAISE(ABORT, 'bids is append-only');
END;
