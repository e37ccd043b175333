DROP TABLE once_keys;
