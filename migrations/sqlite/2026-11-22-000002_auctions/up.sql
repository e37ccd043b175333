-- Auctions and their append-only bid history.
CREATE TABLE auctions (
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
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'active', 'sold', 'no_bids', 'cancelled')),
    winner_id BIGINT REFERENCES users(id),
    closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at)
);
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
