-- Price charts (issue 14 item 6): every time a late bid moved an auction's end (soft close),
-- written in the bid's own transaction, so the price chart can mark where the end moved.
CREATE TABLE auction_extensions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    auction_id BIGINT NOT NULL REFERENCES auctions(id),
    at TIMESTAMP NOT NULL,
    old_end_at TIMESTAMP NOT NULL,
    new_end_at TIMESTAMP NOT NULL,
    CHECK (new_end_at > old_end_at)
);
-- An auction's extensions, oldest first.
CREATE INDEX auction_extensions_auction_idx ON auction_extensions (auction_id, id);
