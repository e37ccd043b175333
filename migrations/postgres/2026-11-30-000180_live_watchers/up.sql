-- Live-panel watchers per server process (issue 13 item 9): each process writes how many of
-- its sockets watch each auction every few seconds; a panel shows the sum over the processes
-- heard from recently (a process that died stops counting once its rows go stale).
CREATE TABLE live_watchers (
    process TEXT NOT NULL,
    auction_id BIGINT NOT NULL,
    watchers INTEGER NOT NULL CHECK (watchers > 0),
    seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (process, auction_id)
);
CREATE INDEX live_watchers_auction_idx ON live_watchers (auction_id, seen_at);
