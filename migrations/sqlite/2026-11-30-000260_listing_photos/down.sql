DROP TABLE listing_photos;
