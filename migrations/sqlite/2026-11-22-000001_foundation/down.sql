DROP TRIGGER ledger_entries_no_delete;
DROP TRIGGER ledger_entries_no_update;
DROP TABLE ledger_entries;
DROP TABLE wallets;
DROP TABLE users;
DROP TABLE categories;
DROP TABLE regions;
