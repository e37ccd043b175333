-- Proxy bidding (issue 13 item 1): the leader's maximum, held in full in escrow; the price is
-- what the competition made it. NULL for an auction without bids, and for leads placed before
-- proxy bidding (their hold is the price).
ALTER TABLE auctions ADD COLUMN leader_max BIGINT CHECK (leader_max IS NULL OR leader_max >= current_price);
