ALTER TABLE users DROP COLUMN region_changed_at;
DROP TABLE reviews;
