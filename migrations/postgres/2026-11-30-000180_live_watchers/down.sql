DROP TABLE live_watchers;
