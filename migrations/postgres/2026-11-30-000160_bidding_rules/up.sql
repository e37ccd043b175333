-- Bidding like an auction house (issue 13): the increment table by price band (or the seller's
-- fixed unit), a secret reserve price (an auction that ends below it ends 'reserve_not_met'),
-- and soft close (a late bid moves ends_at; original_ends_at keeps the end the seller set,
-- which bounds the extensions).
ALTER TABLE auctions DROP CONSTRAINT auctions_status_check;
ALTER TABLE auctions ADD CONSTRAINT auctions_status_check
    CHECK (status IN ('scheduled', 'active', 'sold', 'no_bids', 'reserve_not_met', 'cancelled'));
ALTER TABLE auctions ADD COLUMN increment_table BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE auctions ADD COLUMN reserve_price BIGINT
    CHECK (reserve_price IS NULL OR reserve_price >= start_price);
ALTER TABLE auctions ADD COLUMN original_ends_at TIMESTAMP;
ALTER TABLE auctions ADD COLUMN extensions INTEGER NOT NULL DEFAULT 0 CHECK (extensions >= 0);
