#!/bin/bash
# How long after PostgreSQL comes back the site answers 200 again (docs/BENCHMARKS.md, "Database
# restart"). Run as root from the repository (initdb and pg_ctl run as `postgres`), after
# `cargo build --bins`. MODE=fast|immediate (pg_ctl stop mode), DOWN=seconds stopped, RUNS.
# 8 curl loops load /auctions and /auctions/1 throughout; their statuses are counted at the end.
set -u
BIN=$(pg_config --bindir)
D=${WORK:-/tmp/nb-restart}/pg
APP=${WORK:-/tmp/nb-restart}/app
PORT=5439
HTTP=127.0.0.1:18089
SERVER=${SERVER:-target/debug/neighborbid}
DOWN=${DOWN:-0}
RUNS=${RUNS:-5}
rm -rf $D $APP; mkdir -p $D $APP; chown postgres:postgres $D
runuser -u postgres -- $BIN/initdb -D $D/data -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
OPTS="-p $PORT -k $D -c listen_addresses=127.0.0.1 -c max_connections=300"
runuser -u postgres -- $BIN/pg_ctl -D $D/data -l $D/log -w -o "$OPTS" start >/dev/null
runuser -u postgres -- $BIN/psql -h 127.0.0.1 -p $PORT -U postgres -c "CREATE DATABASE nb" >/dev/null
export DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/nb NEIGHBORBID_BIND=$HTTP NEIGHBORBID_DATA_DIR=$APP RUST_LOG=warn
$SERVER seed-demo >/dev/null 2>&1
$SERVER serve >$APP/server.log 2>&1 &
SPID=$!
until curl -s -o /dev/null http://$HTTP/healthz; do sleep 0.1; done
LOADPIDS=()
for i in $(seq 8); do
  ( while true; do curl -s -o /dev/null -w "%{http_code}\n" --max-time 20 http://$HTTP/auctions; curl -s -o /dev/null -w "%{http_code}\n" --max-time 20 http://$HTTP/auctions/1; done >> $APP/load.$i ) &
  LOADPIDS+=($!)
done
sleep 2
first200() { # $1 path; prints seconds since $2 (epoch ns) of the first 200
  while [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 http://$HTTP$1)" != 200 ]; do sleep 0.01; done
  echo "scale=2; ($(date +%s%N) - $2) / 1000000000" | bc
}
for r in $(seq $RUNS); do
  runuser -u postgres -- $BIN/pg_ctl -D $D/data -w -m ${MODE:-fast} stop >/dev/null
  sleep $DOWN
  runuser -u postgres -- $BIN/pg_ctl -D $D/data -l $D/log -w -o "$OPTS" start >/dev/null
  T=$(date +%s%N)
  H=$(first200 /healthz $T); A=$(first200 /auctions $T)
  echo "run $r (${MODE:-fast}, down ${DOWN}s + stop/start): /healthz 200 after $H s, /auctions 200 after $A s"
  sleep 3
done
kill ${LOADPIDS[@]} 2>/dev/null; wait ${LOADPIDS[@]} 2>/dev/null
echo "load statuses:"; cat $APP/load.* | sort | uniq -c
kill $SPID; wait $SPID
runuser -u postgres -- $BIN/pg_ctl -D $D/data -m immediate stop >/dev/null
