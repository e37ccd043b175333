ALTER TABLE auctions DROP COLUMN leader_max;
