-- The fixed-price market: products with a quantity, and one trade per buyer per product
-- carrying the price at the moment of purchase.
CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seller_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    price BIGINT NOT NULL CHECK (price > 0),
    quantity INTEGER NOT NULL CHECK (quantity >= 1),
    units_left INTEGER NOT NULL CHECK (units_left >= 0 AND units_left <= quantity),
    status TEXT NOT NULL DEFAULT 'on_sale' CHECK (status IN ('on_sale', 'reserved', 'completed')),
    category_id BIGINT NOT NULL REFERENCES categories(id),
    region_id BIGINT NOT NULL REFERENCES regions(id),
    image_path TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX products_status_idx ON products (status, id);
CREATE INDEX products_region_idx ON products (region_id, id);
CREATE INDEX products_category_idx ON products (category_id, id);
CREATE INDEX products_seller_idx ON products (seller_id, id);

CREATE TABLE trades (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id BIGINT NOT NULL REFERENCES products(id),
    buyer_id BIGINT NOT NULL REFERENCES users(id),
    seller_id BIGINT NOT NULL REFERENCES users(id),
    price BIGINT NOT NULL CHECK (price > 0),
    status TEXT NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'rejected', 'confirmed')),
    created_at TIMESTAMP NOT NULL,
    approved_at TIMESTAMP,
    confirmed_at TIMESTAMP,
    auto_confirm_at TIMESTAMP,
    UNIQUE (product_id, buyer_id),
    CHECK (buyer_id <> seller_id)
);
CREATE INDEX trades_buyer_idx ON trades (buyer_id, id);
CREATE INDEX trades_seller_idx ON trades (seller_id, id);
CREATE INDEX trades_due_idx ON trades (status, auto_confirm_at);
