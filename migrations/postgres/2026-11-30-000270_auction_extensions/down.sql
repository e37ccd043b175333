DROP TABLE auction_extensions;
