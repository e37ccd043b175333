ALTER TABLE bids DROP COLUMN is_auto;
ALTER TABLE bids DROP COLUMN max_amount;
ALTER TABLE auctions DROP COLUMN leader_max;
