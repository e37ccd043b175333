-- Proxy bidding (issue 13 item 1): the leader's maximum, held in full in escrow; the price is
-- what the competition made it. NULL for an auction without bids, and for leads placed before
-- proxy bidding (their hold is the price).
ALTER TABLE auctions ADD COLUMN leader_max BIGINT CHECK (leader_max IS NULL OR leader_max >= current_price);
-- Every accepted bid submission leaves exactly one row of its own (is_auto = FALSE), carrying
-- the maximum the bidder entered (max_amount, shown to that bidder only); `amount` is the bid
-- as everyone sees it. Rows the site placed for a leader's maximum have is_auto = TRUE and no
-- max_amount. Rows from before proxy bidding: max_amount NULL, the amount was the maximum.
ALTER TABLE bids ADD COLUMN max_amount BIGINT CHECK (max_amount IS NULL OR max_amount >= amount);
ALTER TABLE bids ADD COLUMN is_auto BOOLEAN NOT NULL DEFAULT FALSE;
