-- Down: trade_disputes goes; the trades columns stay (SQLite would need another rebuild) and
-- nothing reads them then.
DROP TABLE trade_disputes;
