DROP TABLE trades;
DROP TABLE products;
