-- Photo galleries (issue 14 item 5): up to 10 photos per listing, in the seller's order. A
-- photo belongs to exactly one auction or one product. `auctions.image_name` and
-- `products.image_path` stay as the listing's cover: the name of its first photo, kept in step
-- by the transaction that adds, moves or deletes one (the lists read it without a join).
CREATE TABLE listing_photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    auction_id BIGINT REFERENCES auctions(id),
    product_id BIGINT REFERENCES products(id),
    position INTEGER NOT NULL CHECK (position >= 0),
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    CHECK ((product_id IS NULL) <> (auction_id IS NULL))
);
CREATE INDEX listing_photos_auction_idx ON listing_photos (auction_id, position);
CREATE INDEX listing_photos_product_idx ON listing_photos (product_id, position);
-- The single photo each listing had becomes its first.
INSERT INTO listing_photos (auction_id, product_id, position, name, created_at)
    SELECT id, NULL, 0, image_name, updated_at FROM auctions WHERE image_name IS NOT NULL;
INSERT INTO listing_photos (auction_id, product_id, position, name, created_at)
    SELECT NULL, id, 0, image_path, updated_at FROM products WHERE image_path IS NOT NULL;
