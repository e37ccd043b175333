ALTER TABLE auctions DROP COLUMN extensions;
ALTER TABLE auctions DROP COLUMN original_ends_at;
ALTER TABLE auctions DROP COLUMN reserve_price;
ALTER TABLE auctions DROP COLUMN increment_table;
ALTER TABLE auctions DROP CONSTRAINT auctions_status_check;
ALTER TABLE auctions ADD CONSTRAINT auctions_status_check
    CHECK (status IN ('scheduled', 'active', 'sold', 'no_bids', 'cancelled'));
