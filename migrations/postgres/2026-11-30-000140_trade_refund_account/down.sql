ALTER TABLE payment_refunds DROP COLUMN sent_at;
ALTER TABLE payments DROP COLUMN refund_holder;
ALTER TABLE payments DROP COLUMN refund_account;
ALTER TABLE payments DROP COLUMN refund_bank;
