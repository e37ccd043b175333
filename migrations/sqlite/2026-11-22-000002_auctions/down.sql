DROP TRIGGER bids_no_delete;
DROP TRIGGER bids_no_update;
DROP TABLE bids;
DROP TABLE auctions;
