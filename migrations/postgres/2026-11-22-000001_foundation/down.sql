DROP TABLE ledger_entries;
DROP FUNCTION ledger_entries_append_only();
DROP TABLE wallets;
DROP TABLE users;
DROP TABLE categories;
DROP TABLE regions;
