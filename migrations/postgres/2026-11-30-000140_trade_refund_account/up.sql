-- A market purchase paid into a virtual account (DESIGN §8): the account the buyer gave for a
-- refund, should the trade not go ahead (PortOne's refund_bank / refund_account /
-- refund_holder). Empty for card payments and top-ups (a top-up's refund form asks for it).
ALTER TABLE payments ADD COLUMN refund_bank TEXT;
ALTER TABLE payments ADD COLUMN refund_account TEXT;
ALTER TABLE payments ADD COLUMN refund_holder TEXT;
-- When a refund's cancel was handed to PortOne: a refund is sent once (claimed by setting
-- this), so the payments job can send a trade's refund the scheduler held without racing the
-- page that held it.
ALTER TABLE payment_refunds ADD COLUMN sent_at TIMESTAMP;
