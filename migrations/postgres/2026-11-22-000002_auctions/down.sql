DROP TABLE bids;
DROP FUNCTION bids_append_only();
DROP TABLE auctions;
