-- The watchlist (issue 13 item 8): auctions a member starred, to find them again at
-- /me/watchlist (and to hear "ending in 10 minutes" about them). One row per member and auction.
CREATE TABLE watchlist (
    user_id BIGINT NOT NULL REFERENCES users (id),
    auction_id BIGINT NOT NULL REFERENCES auctions (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, auction_id)
);
CREATE INDEX watchlist_auction_idx ON watchlist (auction_id);
